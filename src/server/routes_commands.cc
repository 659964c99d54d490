#include "server/routes_commands.h"

#include <chrono>
#include <optional>

#include "protocol/json_writer.h"
#include "protocol/query_parser.h"
#include "protocol/record_writer.h"
#include "protocol/response_writer.h"
#include "protocol/submit_parser.h"
#include "server/blocking_call.h"
#include "server/command_wait.h"
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
    if (protocol::IsBatchBody(body)) co_return co_await SubmitBatch(body, *wait, deadline);
    auto command = protocol::ParseSubmit(body, ctx_.options.submit_limits);
    if (!command) co_return ErrorResponse(command.error());
    auto submit = [this, c = std::move(*command)]() mutable { return bus_.Submit(std::move(c)); };
    Result<CommandId> id = co_await RunBlocking(ctx_.blocking, std::move(submit));
    if (!id) co_return ErrorResponse(id.error());
    if (!*wait) co_return OkJson(protocol::SubmitResultJson(*id));
    Result<Record> record = co_await WaitUntilTerminal(bus_, *id, deadline);
    co_return RecordResponse(record);
  }

  asio::awaitable<HttpResponse> Get(RequestContext& rc) {
    auto id = protocol::ParseIdSegment(rc.params[0]);
    if (!id) co_return ErrorResponse(id.error());
    auto wait = ParseWaitQuery(rc.query, true, ctx_.options.max_wait);
    if (!wait) co_return ErrorResponse(wait.error());
    if (!*wait) co_return RecordResponse(bus_.Get(*id));
    Result<Record> record = co_await WaitUntilTerminal(bus_, *id, SteadyClock::now() + **wait);
    co_return RecordResponse(record);
  }

  asio::awaitable<HttpResponse> List(RequestContext& rc) {
    auto query = protocol::ParseListQuery(rc.query);
    if (!query) co_return ErrorResponse(query.error());
    auto page = bus_.List(*query);
    if (!page) co_return ErrorResponse(page.error());
    co_return OkJson(protocol::ListPageJson(*page));
  }

  asio::awaitable<HttpResponse> Audit(RequestContext& rc) {
    auto id = IdWithoutQuery(rc);
    if (!id) co_return ErrorResponse(id.error());
    auto events = bus_.Audit(*id);
    if (!events) co_return ErrorResponse(events.error());
    co_return OkJson(protocol::AuditJson(*events));
  }

  // cancel, undo, redrive: the action on the blocking pool, then the record as it is.
  RouteHandler Action(Status (Bus::*action)(CommandId)) {
    return [this, action](RequestContext& rc) -> asio::awaitable<HttpResponse> {
      auto id = IdWithoutQuery(rc);
      if (!id) co_return ErrorResponse(id.error());
      auto act = [this, action, id = *id] { return (bus_.*action)(id); };
      Status status = co_await RunBlocking(ctx_.blocking, act);
      if (!status.ok()) co_return ErrorResponse(status);
      co_return RecordResponse(bus_.Get(*id));
    };
  }

 private:
  asio::awaitable<HttpResponse> SubmitBatch(const std::string& body,
                                            std::optional<milliseconds> wait,
                                            SteadyClock::time_point deadline) {
    auto parsed = protocol::ParseSubmitBatch(body, ctx_.options.submit_limits);
    if (!parsed) co_return ErrorResponse(parsed.error());
    std::vector<Result<CommandId>> results;
    std::vector<Command> commands;
    results.reserve(parsed->size());
    commands.reserve(parsed->size());
    for (Result<Command>& item : *parsed) {
      results.push_back(item ? Result<CommandId>() : Error(std::move(item.error())));
      if (item) commands.push_back(std::move(*item));
    }
    auto submit = [this, c = std::move(commands)]() mutable {
      return bus_.SubmitBatch(std::move(c));
    };
    std::vector<Result<CommandId>> submitted =
        co_await RunBlocking(ctx_.blocking, std::move(submit));
    // Each parsed item took the next submit result, in order.
    auto next = submitted.begin();
    for (Result<CommandId>& result : results) {
      if (result) result = std::move(*next++);
    }
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
  router.Add(http::verb::post, "/v1/commands/{id}/cancel", Access::kSubmit,
             routes->Action(&Bus::Cancel));
  router.Add(http::verb::post, "/v1/commands/{id}/undo", Access::kAdmin,
             routes->Action(&Bus::Undo));
  router.Add(http::verb::post, "/v1/commands/{id}/redrive", Access::kAdmin,
             routes->Action(&Bus::Redrive));
}

}  // namespace cmdq::server
