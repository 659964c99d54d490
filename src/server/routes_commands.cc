#include "server/routes_commands.h"

#include <chrono>
#include <optional>
#include <span>
#include <string>

#include "protocol/json_writer.h"
#include "protocol/query_parser.h"
#include "protocol/record_writer.h"
#include "protocol/response_writer.h"
#include "protocol/submit_parser.h"
#include "server/access.h"
#include "server/blocking_call.h"
#include "server/command_wait.h"
#include "server/metrics.h"
#include "server/query_params.h"
#include "server/responses.h"

namespace cmdq::server {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

HttpResponse RecordResponse(const Result<Record>& record) {
  if (!record) return ErrorResponse(record.error());
  return OkJson(protocol::RecordJson(*record));
}

// {"results":[record | {"error":{...}}...]}: a batch submitted with ?wait=.
std::string BatchRecordsJson(const std::vector<Result<Record>>& records) {
  protocol::JsonWriter w(1024 * records.size() + 16);
  w.BeginObject().Key("results").BeginArray();
  for (const Result<Record>& record : records) {
    if (record) {
      protocol::WriteRecord(*record, w);
    } else {
      protocol::WriteError(record.error(), w);
    }
  }
  w.EndArray().EndObject();
  return w.Release();
}

class CommandRoutes {
 public:
  explicit CommandRoutes(ServerContext& context) : ctx_(context), bus_(context.bus) {}

  asio::awaitable<HttpResponse> Submit(RequestContext& rc) {
    auto wait = ParseWaitQuery(rc.query, true, ctx_.options.max_wait);
    if (!wait) co_return ErrorResponse(wait.error());
    const auto deadline = SteadyClock::now() + wait->value_or(milliseconds(0));
    const std::string& body = rc.request.body();
    if (protocol::IsBatchBody(body)) co_return co_await SubmitBatch(rc, *wait, deadline);
    auto command = protocol::ParseSubmit(body, ctx_.options.submit_limits);
    if (!command) co_return ErrorResponse(command.error());
    if (auto denied = CheckKey(ctx_.ops, rc.request, Access::kSubmit, command->key)) {
      co_return std::move(*denied);
    }
    if (auto limited = AdmitSubmit(ctx_.ops.limiter, std::span(&*command, 1))) {
      co_return std::move(*limited);
    }
    std::string type = command->type;
    std::vector<Command> one;
    one.push_back(std::move(*command));
    std::vector<Result<CommandId>> submitted = co_await SubmitCommands(one);
    Result<CommandId>& id = submitted.at(0);
    if (!id) co_return ErrorResponse(id.error());
    if (ctx_.ops.metrics != nullptr) ctx_.ops.metrics->OnSubmitted(type);
    if (!*wait) co_return OkJson(protocol::SubmitResultJson(*id));
    Result<Record> record = co_await WaitUntilTerminal(bus_, *id, deadline);
    co_return RecordResponse(record);
  }

  asio::awaitable<HttpResponse> Get(RequestContext& rc) {
    auto id = protocol::ParseIdSegment(rc.params[0]);
    if (!id) co_return ErrorResponse(id.error());
    auto wait = ParseWaitQuery(rc.query, true, ctx_.options.max_wait);
    if (!wait) co_return ErrorResponse(wait.error());
    if (auto denied = CheckRecordKey(rc, Access::kRead, *id)) co_return std::move(*denied);
    if (!*wait) co_return RecordResponse(bus_.Get(*id));
    Result<Record> record = co_await WaitUntilTerminal(bus_, *id, SteadyClock::now() + **wait);
    co_return RecordResponse(record);
  }

  asio::awaitable<HttpResponse> List(RequestContext& rc) {
    auto query = protocol::ParseListQuery(rc.query);
    if (!query) co_return ErrorResponse(query.error());
    // A key-limited token must filter on one of its keys.
    if (auto denied = CheckKey(ctx_.ops, rc.request, Access::kRead, query->key.value_or(""))) {
      co_return std::move(*denied);
    }
    auto page = bus_.List(*query);
    if (!page) co_return ErrorResponse(page.error());
    co_return OkJson(protocol::ListPageJson(*page));
  }

  asio::awaitable<HttpResponse> Audit(RequestContext& rc) {
    auto id = IdWithoutQuery(rc);
    if (!id) co_return ErrorResponse(id.error());
    if (auto denied = CheckRecordKey(rc, Access::kRead, *id)) co_return std::move(*denied);
    auto events = bus_.Audit(*id);
    if (!events) co_return ErrorResponse(events.error());
    co_return OkJson(protocol::AuditJson(*events));
  }

  // cancel, undo, redrive: the action on the blocking pool, then the record as it is.
  RouteHandler Action(Status (Bus::*action)(CommandId), Access access) {
    return [this, action, access](RequestContext& rc) -> asio::awaitable<HttpResponse> {
      auto id = IdWithoutQuery(rc);
      if (!id) co_return ErrorResponse(id.error());
      if (auto denied = CheckRecordKey(rc, access, *id)) co_return std::move(*denied);
      auto act = [this, action, id = *id] { return (bus_.*action)(id); };
      Status status = co_await RunBlocking(ctx_.blocking, act);
      if (!status.ok()) co_return ErrorResponse(status);
      co_return RecordResponse(bus_.Get(*id));
    };
  }

 private:
  asio::awaitable<HttpResponse> SubmitBatch(RequestContext& rc, std::optional<milliseconds> wait,
                                            SteadyClock::time_point deadline) {
    auto parsed = protocol::ParseSubmitBatch(rc.request.body(), ctx_.options.submit_limits);
    if (!parsed) co_return ErrorResponse(parsed.error());
    std::vector<Result<CommandId>> results;
    std::vector<Command> commands;
    results.reserve(parsed->size());
    commands.reserve(parsed->size());
    for (Result<Command>& item : *parsed) {
      results.push_back(item ? Result<CommandId>() : Error(std::move(item.error())));
      if (item) commands.push_back(std::move(*item));
    }
    // Every key of the batch must be the token's, and within its rate: else none is stored.
    for (const Command& command : commands) {
      if (auto denied = CheckKey(ctx_.ops, rc.request, Access::kSubmit, command.key)) {
        co_return std::move(*denied);
      }
    }
    if (auto limited = AdmitSubmit(ctx_.ops.limiter, commands)) co_return std::move(*limited);
    std::vector<std::string> types;
    if (ctx_.ops.metrics != nullptr) {
      types.reserve(commands.size());
      for (const Command& command : commands) types.push_back(command.type);
    }
    std::vector<Result<CommandId>> submitted = co_await SubmitCommands(commands);
    // Each parsed item took the next submit result, in order.
    auto next = submitted.begin();
    for (Result<CommandId>& result : results) {
      if (result) result = std::move(*next++);
    }
    if (ctx_.ops.metrics != nullptr) CountSubmitted(types, submitted);
    if (!wait) co_return OkJson(protocol::BatchResultsJson(results));
    std::vector<Result<Record>> records;
    records.reserve(results.size());
    // One at a time against one deadline: the whole wait stays within ?wait=. (A plain
    // statement per co_await: GCC 12 miscompiles co_await inside call arguments.)
    for (const Result<CommandId>& id : results) {
      if (!id) {
        records.push_back(Error(id.error()));
        continue;
      }
      Result<Record> record = co_await WaitUntilTerminal(bus_, *id, deadline);
      records.push_back(std::move(record));
    }
    co_return OkJson(BatchRecordsJson(records));
  }

  // On this thread when the Bus can take the commands without blocking (async mode, with
  // room in their partitions); else on the blocking pool (durable mode waits for fsync).
  asio::awaitable<std::vector<Result<CommandId>>> SubmitCommands(std::vector<Command>& commands) {
    if (auto now = bus_.TrySubmitBatch(commands)) co_return std::move(*now);
    auto submit = [this, &commands] { return bus_.SubmitBatch(std::move(commands)); };
    co_return co_await RunBlocking(ctx_.blocking, submit);
  }

  // Accepted commands by type, one OnSubmitted per run of equal types (batches are
  // usually of one type).
  void CountSubmitted(const std::vector<std::string>& types,
                      const std::vector<Result<CommandId>>& submitted) {
    size_t i = 0;
    while (i < types.size()) {
      size_t end = i;
      uint64_t accepted = 0;
      while (end < types.size() && types[end] == types[i]) accepted += submitted[end++] ? 1 : 0;
      if (accepted > 0) ctx_.ops.metrics->OnSubmitted(types[i], accepted);
      i = end;
    }
  }

  // With access control on: loads the record of `id` and checks the token may touch its
  // key (404 for a command that does not exist). nullopt: go on.
  std::optional<HttpResponse> CheckRecordKey(RequestContext& rc, Access access, CommandId id) {
    if (ctx_.ops.auth == nullptr || !ctx_.ops.auth->enabled()) return std::nullopt;
    Result<Record> record = bus_.Get(id);
    if (!record) return ErrorResponse(record.error());
    return CheckKey(ctx_.ops, rc.request, access, record->command.key);
  }

  // The {id} of a route that takes no query parameter.
  static Result<CommandId> IdWithoutQuery(RequestContext& rc) {
    auto id = protocol::ParseIdSegment(rc.params[0]);
    if (!id) return id;
    if (auto query = ParseWaitQuery(rc.query, false, {}); !query) return Error(query.error());
    return id;
  }

  ServerContext& ctx_;
  Bus& bus_;
};

}  // namespace

void AddCommandRoutes(Router& router, ServerContext& context) {
  // The routes' state lives as long as the handlers that share it.
  auto routes = std::make_shared<CommandRoutes>(context);
  auto bind = [routes](auto method) -> RouteHandler {
    return [routes, method](RequestContext& rc) { return ((*routes).*method)(rc); };
  };
  router.Add(http::verb::post, "/v1/commands", Access::kSubmit, bind(&CommandRoutes::Submit));
  router.Add(http::verb::get, "/v1/commands", Access::kRead, bind(&CommandRoutes::List));
  router.Add(http::verb::get, "/v1/commands/{id}", Access::kRead, bind(&CommandRoutes::Get));
  router.Add(http::verb::get, "/v1/commands/{id}/audit", Access::kRead,
             bind(&CommandRoutes::Audit));
  // cancel, undo and redrive change what others submitted: admin (docs/operations.md).
  router.Add(http::verb::post, "/v1/commands/{id}/cancel", Access::kAdmin,
             routes->Action(&Bus::Cancel, Access::kAdmin));
  router.Add(http::verb::post, "/v1/commands/{id}/undo", Access::kAdmin,
             routes->Action(&Bus::Undo, Access::kAdmin));
  router.Add(http::verb::post, "/v1/commands/{id}/redrive", Access::kAdmin,
             routes->Action(&Bus::Redrive, Access::kAdmin));
}

}  // namespace cmdq::server
