#include "server/routes_workers.h"

#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <variant>

#include "protocol/json_writer.h"
#include "protocol/query_parser.h"
#include "protocol/response_writer.h"
#include "protocol/worker_parser.h"
#include "server/async_signal.h"
#include "server/blocking_call.h"
#include "server/query_params.h"
#include "server/responses.h"

namespace cmdq::server {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

RemoteOutcome ToOutcome(CommandId id, protocol::CompleteRequest complete) {
  return {.id = id,
          .token = std::move(complete.lease),
          .ok = true,
          .result = std::move(complete.result),
          .error = {},
          .retryable = true};
}

RemoteOutcome ToOutcome(CommandId id, protocol::FailRequest fail) {
  return {.id = id,
          .token = std::move(fail.lease),
          .ok = false,
          .result = {},
          .error = std::move(fail.error),
          .retryable = fail.retryable};
}

// Views of the grants: the commands are written from the Bus's copies, never copied.
std::vector<protocol::LeaseView> ToLeases(const std::vector<LeaseGrant>& grants) {
  std::vector<protocol::LeaseView> leases;
  leases.reserve(grants.size());
  for (const LeaseGrant& grant : grants) {
    leases.push_back({.token = grant.token,
                      .command = grant.command.get(),
                      .timeout_ms = grant.timeout_ms,  // the attempt's own timeout
                      .attempt = grant.attempt,
                      .deadline_us = grant.deadline_us});
  }
  return leases;
}

class WorkerRoutes {
 public:
  explicit WorkerRoutes(ServerContext& context) : ctx_(context), bus_(context.bus) {}

  asio::awaitable<HttpResponse> Lease(RequestContext& rc) {
    if (auto q = ParseWaitQuery(rc.query, false, {}); !q) co_return ErrorResponse(q.error());
    auto request = protocol::ParseLeaseRequest(rc.request.body(), ctx_.options.lease_limits);
    if (!request) co_return ErrorResponse(request.error());
    LeaseAsk ask = ToAsk(*request);
    Result<std::vector<LeaseGrant>> grants = co_await LeaseWithin(ask, request->wait_ms);
    if (!grants) co_return ErrorResponse(grants.error());
    co_return OkJson(protocol::LeasesJson(std::span<const protocol::LeaseView>(ToLeases(*grants))));
  }

  asio::awaitable<HttpResponse> Heartbeat(RequestContext& rc) {
    auto token = protocol::ParseLeaseSegment(rc.params[0]);
    if (!token) co_return ErrorResponse(token.error());
    if (auto q = ParseWaitQuery(rc.query, false, {}); !q) co_return ErrorResponse(q.error());
    auto request = protocol::ParseHeartbeat(rc.request.body(), ctx_.options.lease_limits);
    if (!request) co_return ErrorResponse(request.error());
    // Leases live in memory: a heartbeat never blocks.
    Result<int64_t> deadline = bus_.Heartbeat(*token, milliseconds(request->lease_ms));
    if (!deadline) co_return ErrorResponse(deadline.error());
    protocol::JsonWriter w(96);
    w.BeginObject().Key("lease").String(*token).Key("deadline").Time(*deadline).EndObject();
    co_return OkJson(w.Release());
  }

  asio::awaitable<HttpResponse> Complete(RequestContext& rc) {
    auto id = OutcomeId(rc);
    if (!id) co_return ErrorResponse(id.error());
    auto request = protocol::ParseComplete(rc.request.body(), ctx_.options.lease_limits);
    if (!request) co_return ErrorResponse(request.error());
    std::vector<RemoteOutcome> one;
    one.push_back(ToOutcome(*id, std::move(*request)));
    co_return co_await FinishOne(one);
  }

  asio::awaitable<HttpResponse> Fail(RequestContext& rc) {
    auto id = OutcomeId(rc);
    if (!id) co_return ErrorResponse(id.error());
    auto request = protocol::ParseFail(rc.request.body(), ctx_.options.lease_limits);
    if (!request) co_return ErrorResponse(request.error());
    std::vector<RemoteOutcome> one;
    one.push_back(ToOutcome(*id, std::move(*request)));
    co_return co_await FinishOne(one);
  }

  // Every item that parses goes into one Bus::Finish (one store write); the answer keeps
  // the body's order. With a lease (the object form), the lease is taken after the
  // outcomes are stored, so a key's next command can be among the leased.
  asio::awaitable<HttpResponse> Completions(RequestContext& rc) {
    if (auto q = ParseWaitQuery(rc.query, false, {}); !q) co_return ErrorResponse(q.error());
    auto request = protocol::ParseCompletionsRequest(rc.request.body(), ctx_.options.lease_limits);
    if (!request) co_return ErrorResponse(request.error());
    std::vector<Result<CommandId>> results;
    std::vector<RemoteOutcome> outcomes;
    results.reserve(request->items.size());
    outcomes.reserve(request->items.size());
    for (Result<protocol::CompletionItem>& item : request->items) {
      if (!item) {
        results.push_back(Error(std::move(item.error())));
        continue;
      }
      results.push_back(item->id);
      outcomes.push_back(
          std::visit([id = item->id](auto& outcome) { return ToOutcome(id, std::move(outcome)); },
                     item->outcome));
    }
    if (!outcomes.empty()) {
      std::vector<Status> statuses = co_await FinishOutcomes(outcomes);
      auto next = statuses.begin();
      for (Result<CommandId>& result : results) {
        if (!result) continue;
        if (!next->ok()) result = Error(std::move(*next));
        ++next;
      }
    }
    if (!request->lease) co_return OkJson(protocol::BatchResultsJson(results));
    LeaseAsk ask = ToAsk(*request->lease);
    Result<std::vector<LeaseGrant>> grants = co_await LeaseWithin(ask, request->lease->wait_ms);
    // The outcomes are stored either way: a failed lease is reported beside them.
    if (!grants) co_return OkJson(protocol::CompletionsAndLeasesJson(results, {}, grants.error()));
    co_return OkJson(protocol::CompletionsAndLeasesJson(
        results, std::span<const protocol::LeaseView>(ToLeases(*grants)), Status::Ok()));
  }

 private:
  static LeaseAsk ToAsk(protocol::LeaseRequest& request) {
    return LeaseAsk{.types = std::move(request.types),
                    .max = request.max,
                    .worker = std::move(request.worker),
                    .duration = milliseconds(request.lease_ms)};
  }

  // Leases for `ask`, waiting up to wait_ms for a command when none is ready (long-poll).
  // Registers OnLeasable before each try, so a command that turns up between the try
  // and the sleep still wakes it. A woken listener is cancelled only after the try that
  // follows, so that the bus passes on a wake-up it left unused. `ask` by reference:
  // coroutine parameters of class type by value are what GCC 12 gets wrong.
  asio::awaitable<Result<std::vector<LeaseGrant>>> LeaseWithin(const LeaseAsk& ask,
                                                               uint32_t wait_ms) {
    const auto deadline = SteadyClock::now() + milliseconds(wait_ms);
    auto executor = co_await asio::this_coro::executor;
    uint64_t waited = 0;  // the listener of the last wait
    for (;;) {
      const bool may_wait = SteadyClock::now() < deadline;
      auto signal = AsyncSignal::Make(executor);
      const uint64_t ticket = may_wait ? bus_.OnLeasable(ask.types, signal->FireCallback()) : 0;
      // Without a wait a lease never blocks: it is answered on this thread.
      Result<std::vector<LeaseGrant>> grants = bus_.Lease(ask, milliseconds(0));
      bus_.CancelLeasable(waited);
      if (!grants || !grants->empty() || !may_wait) {
        bus_.CancelLeasable(ticket);
        co_return grants;
      }
      co_await signal->Wait(deadline - SteadyClock::now());
      waited = ticket;
    }
  }

  static Result<CommandId> OutcomeId(RequestContext& rc) {
    auto id = protocol::ParseIdSegment(rc.params[0]);
    if (!id) return id;
    if (auto q = ParseWaitQuery(rc.query, false, {}); !q) return Error(q.error());
    return id;
  }

  // `one` holds one outcome; taken by reference (coroutine parameters of class type
  // by value are what GCC 12 gets wrong).
  asio::awaitable<HttpResponse> FinishOne(std::vector<RemoteOutcome>& one) {
    const CommandId id = one.at(0).id;
    std::vector<Status> statuses = co_await FinishOutcomes(one);
    if (!statuses.at(0).ok()) co_return ErrorResponse(statuses[0]);
    co_return OkJson(protocol::SubmitResultJson(id));
  }

  // In async mode nothing is synced, so Finish runs on this thread; in durable mode it
  // waits for the group commit, on the blocking pool.
  asio::awaitable<std::vector<Status>> FinishOutcomes(std::vector<RemoteOutcome>& outcomes) {
    if (bus_.mode() == Mode::kAsync) co_return bus_.Finish(std::move(outcomes));
    auto finish = [this, &outcomes] { return bus_.Finish(std::move(outcomes)); };
    co_return co_await RunBlocking(ctx_.blocking, finish);
  }

  ServerContext& ctx_;
  Bus& bus_;
};

}  // namespace

void AddWorkerRoutes(Router& router, ServerContext& context) {
  auto routes = std::make_shared<WorkerRoutes>(context);
  auto bind = [routes](auto method) -> RouteHandler {
    return [routes, method](RequestContext& rc) { return ((*routes).*method)(rc); };
  };
  router.Add(http::verb::post, "/v1/leases", Access::kWork, bind(&WorkerRoutes::Lease));
  router.Add(http::verb::post, "/v1/leases/{lease}/heartbeat", Access::kWork,
             bind(&WorkerRoutes::Heartbeat));
  router.Add(http::verb::post, "/v1/commands/{id}/complete", Access::kWork,
             bind(&WorkerRoutes::Complete));
  router.Add(http::verb::post, "/v1/commands/{id}/fail", Access::kWork, bind(&WorkerRoutes::Fail));
  router.Add(http::verb::post, "/v1/completions", Access::kWork, bind(&WorkerRoutes::Completions));
}

}  // namespace cmdq::server
