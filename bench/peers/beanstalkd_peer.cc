// beanstalkd through its text protocol (doc/protocol.txt of beanstalkd) on a plain socket:
// producers pipeline `put` into the run's tube, consumers pipeline `reserve-with-timeout 0`
// and then `delete` what they got. Done = DELETED read back. D0/D1 is the server's
// setting (-b -f 0: binlog, fsync on every write), so the client is the same for both.
#include <charconv>
#include <string>
#include <vector>

#include "line_socket.h"
#include "peer.h"
#include "pipelined_producer.h"

namespace cmdq::peers {
namespace {

Status Unexpected(std::string_view what, std::string_view line) {
  return Status::Internal("beanstalkd " + std::string(what) + ": " + std::string(line));
}

class BeanstalkdProducer final : public PipelinedProducer {
 public:
  BeanstalkdProducer(LineSocket socket, int window)
      : PipelinedProducer(window), socket_(std::move(socket)) {}

 private:
  Status Write(std::span<const std::string> messages) override {
    out_.clear();
    for (const std::string& body : messages) {
      out_ += "put 0 0 60 " + std::to_string(body.size()) + "\r\n";
      out_ += body;
      out_ += "\r\n";
    }
    return socket_.WriteAll(out_);
  }

  Result<uint64_t> ReadConfirmation() override {
    auto line = socket_.ReadLine();
    if (!line) return Error(line.error());
    if (!line->starts_with("INSERTED ")) return Error(Unexpected("put", *line));
    return 1;
  }

  LineSocket socket_;
  std::string out_;
};

class BeanstalkdConsumer final : public Consumer {
 public:
  BeanstalkdConsumer(LineSocket socket, int batch) : socket_(std::move(socket)), batch_(batch) {}

  Result<size_t> TakeBatch(const OnDone& on_done) override {
    ids_.clear();
    bodies_.clear();
    std::string reserves;
    for (int i = 0; i < batch_; ++i) reserves += "reserve-with-timeout 0\r\n";
    if (Status status = Reserve(reserves, batch_); !status.ok()) return Error(status);
    // Nothing ready: wait for one job (up to 100 ms would need a sub-second timeout, which
    // the protocol lacks; 1 s is the shortest that blocks).
    if (ids_.empty()) {
      if (Status status = Reserve("reserve-with-timeout 1\r\n", 1); !status.ok()) {
        return Error(status);
      }
    }
    if (ids_.empty()) return 0;
    std::string deletes;
    for (const std::string& id : ids_) deletes += "delete " + id + "\r\n";
    if (Status status = socket_.WriteAll(deletes); !status.ok()) return Error(status);
    for (size_t i = 0; i < ids_.size(); ++i) {
      auto line = socket_.ReadLine();
      if (!line) return Error(line.error());
      if (*line != "DELETED") return Error(Unexpected("delete", *line));
      on_done(bodies_[i]);
    }
    return ids_.size();
  }

 private:
  Status Reserve(const std::string& commands, int count) {
    if (Status status = socket_.WriteAll(commands); !status.ok()) return status;
    for (int i = 0; i < count; ++i) {
      auto line = socket_.ReadLine();
      if (!line) return line.error();
      if (*line == "TIMED_OUT" || *line == "DEADLINE_SOON") continue;
      // RESERVED <id> <bytes>
      if (!line->starts_with("RESERVED ")) return Unexpected("reserve", *line);
      const std::string_view rest = line->substr(9);
      const size_t space = rest.find(' ');
      if (space == std::string_view::npos) return Unexpected("reserve", *line);
      ids_.emplace_back(rest.substr(0, space));
      size_t bytes = 0;
      const std::string_view size = rest.substr(space + 1);
      std::from_chars(size.data(), size.data() + size.size(), bytes);
      auto body = socket_.ReadBody(bytes);
      if (!body) return body.error();
      bodies_.emplace_back(*body);
    }
    return Status::Ok();
  }

  LineSocket socket_;
  const int batch_;
  std::vector<std::string> ids_;
  std::vector<std::string> bodies_;
};

class BeanstalkdPeer final : public Peer {
 public:
  explicit BeanstalkdPeer(const PeerOptions& options) : options_(options) {}

  Status Prepare() override { return Status::Ok(); }  // tubes exist once used

  Result<std::unique_ptr<Producer>> NewProducer() override {
    auto socket = Open("use " + options_.queue + "\r\n", "USING");
    if (!socket) return Error(socket.error());
    return std::make_unique<BeanstalkdProducer>(std::move(*socket), options_.window);
  }

  Result<std::unique_ptr<Consumer>> NewConsumer() override {
    auto socket = Open("watch " + options_.queue + "\r\n", "WATCHING");
    if (!socket) return Error(socket.error());
    if (Status status = socket->WriteAll("ignore default\r\n"); !status.ok()) return Error(status);
    if (auto line = socket->ReadLine(); !line || !line->starts_with("WATCHING")) {
      return Error(Status::Internal("beanstalkd: ignore default failed"));
    }
    return std::make_unique<BeanstalkdConsumer>(std::move(*socket), options_.batch);
  }

  std::string Settings() const override {
    return options_.durability == Durability::kD1 ? "binlog, fsync every write (-b -f 0)"
                                                  : "memory only";
  }

 private:
  Result<LineSocket> Open(const std::string& command, std::string_view reply) {
    auto socket = LineSocket::Connect(options_.host, options_.port);
    if (!socket) return Error(socket.error());
    if (Status status = socket->WriteAll(command); !status.ok()) return Error(status);
    auto line = socket->ReadLine();
    if (!line) return Error(line.error());
    if (!line->starts_with(reply)) return Error(Unexpected(command, *line));
    return std::move(*socket);
  }

  PeerOptions options_;
};

}  // namespace

Result<std::unique_ptr<Peer>> MakeBeanstalkdPeer(const PeerOptions& options) {
  return std::make_unique<BeanstalkdPeer>(options);
}

}  // namespace cmdq::peers
