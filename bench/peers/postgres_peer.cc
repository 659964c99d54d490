// PostgreSQL as a queue table through libpq. Producers insert in pipeline mode: a batch is
// `batch` prepared INSERTs and one Sync, which makes it one implicit transaction (one
// commit); at most `window` rows wait for their Sync. Consumers take and finish a batch in
// one statement, DELETE ... (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING, in autocommit:
// done = its commit returned. D0: UNLOGGED table and a server with synchronous_commit=off;
// D1: a logged table and synchronous_commit=on (the commit waits for the WAL flush).
#include <libpq-fe.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "peer.h"
#include "pipelined_producer.h"

namespace cmdq::peers {
namespace {

constexpr unsigned kByteaOid = 17;

struct ConnectionFinish {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
using ConnectionPtr = std::unique_ptr<PGconn, ConnectionFinish>;
struct ResultClear {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultClear>;

Status ConnectionError(PGconn* connection, std::string_view what) {
  return Status::Unavailable("postgres " + std::string(what) + ": " + PQerrorMessage(connection));
}

Result<ConnectionPtr> Connect(const PeerOptions& options) {
  const std::string conninfo = "host=" + options.host + " port=" + std::to_string(options.port) +
                               " user=postgres dbname=postgres";
  ConnectionPtr connection(PQconnectdb(conninfo.c_str()));
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    return Error(ConnectionError(connection.get(), "connect"));
  }
  return connection;
}

Status Exec(PGconn* connection, const std::string& sql) {
  ResultPtr result(PQexec(connection, sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ConnectionError(connection, sql);
  }
  return Status::Ok();
}

class PostgresProducer final : public PipelinedProducer {
 public:
  PostgresProducer(ConnectionPtr connection, const PeerOptions& options)
      : PipelinedProducer(options.window), connection_(std::move(connection)) {}

 private:
  Status Write(std::span<const std::string> messages) override {
    const int binary = 1;
    for (const std::string& body : messages) {
      const char* value = body.data();
      const int length = static_cast<int>(body.size());
      if (PQsendQueryPrepared(connection_.get(), "put", 1, &value, &length, &binary, 0) != 1) {
        return ConnectionError(connection_.get(), "insert");
      }
    }
    if (PQpipelineSync(connection_.get()) != 1) return ConnectionError(connection_.get(), "sync");
    if (PQflush(connection_.get()) != 0) return ConnectionError(connection_.get(), "flush");
    syncs_.push_back(messages.size());
    return Status::Ok();
  }

  // Reads the results of the oldest batch, up to and with its Sync: its commit.
  Result<uint64_t> ReadConfirmation() override {
    uint64_t results = 0;
    for (;;) {
      ResultPtr result(PQgetResult(connection_.get()));
      if (!result) continue;  // the end of one query's results
      const ExecStatusType status = PQresultStatus(result.get());
      if (status == PGRES_PIPELINE_SYNC) break;
      if (status != PGRES_COMMAND_OK) {
        return Error(ConnectionError(connection_.get(), "insert result"));
      }
      ++results;
    }
    if (syncs_.empty() || results != syncs_.front()) {
      return Error(Status::Internal("postgres: a batch lost inserts"));
    }
    syncs_.pop_front();
    return results;
  }

  ConnectionPtr connection_;
  std::deque<uint64_t> syncs_;  // rows of each batch whose Sync has not come back
};

class PostgresConsumer final : public Consumer {
 public:
  PostgresConsumer(ConnectionPtr connection) : connection_(std::move(connection)) {}

  Result<size_t> TakeBatch(const OnDone& on_done) override {
    ResultPtr result(PQexecPrepared(connection_.get(), "take", 0, nullptr, nullptr, nullptr, 1));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      return Error(ConnectionError(connection_.get(), "take"));
    }
    const int rows = PQntuples(result.get());
    if (rows == 0) {
      // No notification on insert: poll. 0.5 ms keeps an idle consumer cheap and adds
      // little to a command's wait at 10,000/s (a batch of 64 fills in 6.4 ms).
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      return 0;
    }
    for (int row = 0; row < rows; ++row) {
      on_done(std::string_view(PQgetvalue(result.get(), row, 0),
                               static_cast<size_t>(PQgetlength(result.get(), row, 0))));
    }
    return static_cast<size_t>(rows);
  }

 private:
  ConnectionPtr connection_;
};

class PostgresPeer final : public Peer {
 public:
  explicit PostgresPeer(const PeerOptions& options) : options_(options) {}

  Status Prepare() override {
    auto connection = Connect(options_);
    if (!connection) return connection.error();
    const char* logged = options_.durability == Durability::kD1 ? "" : "UNLOGGED ";
    return Exec(connection->get(), std::string("CREATE ") + logged + "TABLE " + options_.queue +
                                       " (id bigserial PRIMARY KEY, body bytea NOT NULL)");
  }

  Result<std::unique_ptr<Producer>> NewProducer() override {
    auto connection = Connect(options_);
    if (!connection) return Error(connection.error());
    const std::string sql = "INSERT INTO " + options_.queue + " (body) VALUES ($1)";
    const unsigned types[] = {kByteaOid};
    ResultPtr prepared(PQprepare(connection->get(), "put", sql.c_str(), 1, types));
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return Error(ConnectionError(connection->get(), "prepare insert"));
    }
    if (PQenterPipelineMode(connection->get()) != 1) {
      return Error(ConnectionError(connection->get(), "pipeline mode"));
    }
    return std::make_unique<PostgresProducer>(std::move(*connection), options_);
  }

  Result<std::unique_ptr<Consumer>> NewConsumer() override {
    auto connection = Connect(options_);
    if (!connection) return Error(connection.error());
    const std::string sql = "DELETE FROM " + options_.queue + " WHERE id IN (SELECT id FROM " +
                            options_.queue + " ORDER BY id LIMIT " +
                            std::to_string(options_.batch) +
                            " FOR UPDATE SKIP LOCKED) RETURNING body";
    ResultPtr prepared(PQprepare(connection->get(), "take", sql.c_str(), 0, nullptr));
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return Error(ConnectionError(connection->get(), "prepare take"));
    }
    return std::make_unique<PostgresConsumer>(std::move(*connection));
  }

  std::string Settings() const override {
    return options_.durability == Durability::kD1
               ? "SKIP LOCKED, logged table, synchronous_commit on"
               : "SKIP LOCKED, unlogged table, synchronous_commit off";
  }

 private:
  PeerOptions options_;
};

}  // namespace

Result<std::unique_ptr<Peer>> MakePostgresPeer(const PeerOptions& options) {
  return std::make_unique<PostgresPeer>(options);
}

}  // namespace cmdq::peers
