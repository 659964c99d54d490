// The Bus's side of remote workers and of thread-less waits: leases, heartbeats, outcomes
// (the LeaseBroker does the work), and watches on commands.
#include <fmt/format.h>

#include "engine/bus_impl.h"

namespace cmdq {
namespace {

Status NotRunning() {
  return Status::Unavailable("the bus is not running (call Start(); or it has stopped)");
}

}  // namespace

uint64_t Bus::Impl::Watch(CommandId id, std::function<void()> done) {
  return waiters_.AddCallback(id, std::move(done));
}

void Bus::Impl::Unwatch(CommandId id, uint64_t ticket) { waiters_.RemoveCallback(id, ticket); }

Result<std::vector<const engine::TypeEntry*>> Bus::Impl::RemoteTypes(
    const std::vector<std::string>& names) const {
  if (names.empty()) return Error(Status::InvalidArgument("types", "types is empty"));
  std::vector<const engine::TypeEntry*> types;
  types.reserve(names.size());
  for (const std::string& name : names) {
    const engine::TypeEntry* type = registry_.Find(name);
    if (!type || !type->remote) {
      return Error(Status::InvalidArgument(
          "types", fmt::format("\"{}\" is not a type run by remote workers{}", name,
                               type ? " (it has an in-process handler)" : "")));
    }
    types.push_back(type);
  }
  return types;
}

Result<std::vector<LeaseGrant>> Bus::Impl::Lease(const LeaseAsk& ask,
                                                 std::chrono::milliseconds wait) {
  if (!engine_ || phase_.load() != Phase::kRunning) return Error(NotRunning());
  auto types = RemoteTypes(ask.types);
  if (!types) return Error(types.error());
  if (ask.max == 0) return Error(Status::InvalidArgument("max", "max must be at least 1"));
  if (ask.duration.count() < 0) {
    return Error(Status::InvalidArgument("lease_ms", "a lease duration must not be negative"));
  }
  const auto duration = ask.duration.count() > 0 ? ask.duration : options_.lease_duration;
  engine::LeaseBroker::Ask broker_ask{.types = std::move(*types),
                                      .max = ask.max,
                                      .worker = ask.worker,
                                      .duration_us = duration.count() * 1000};
  return engine_->broker().Lease(broker_ask, std::chrono::steady_clock::now() + wait);
}

uint64_t Bus::Impl::OnLeasable(const std::vector<std::string>& names, std::function<bool()> ready) {
  auto types = RemoteTypes(names);
  if (!engine_ || !types) {
    ready();  // nothing to wait for: the caller's lease answers with the error
    return 0;
  }
  return engine_->broker().OnLeasable(std::move(*types), std::move(ready));
}

void Bus::Impl::CancelLeasable(uint64_t ticket) {
  if (engine_ && ticket != 0) engine_->broker().CancelLeasable(ticket);
}

Result<int64_t> Bus::Impl::Heartbeat(std::string_view token, std::chrono::milliseconds extend) {
  if (!engine_) return Error(NotRunning());
  if (extend.count() < 0) {
    return Error(Status::InvalidArgument("lease_ms", "a lease extension must not be negative"));
  }
  return engine_->broker().Heartbeat(token, extend.count() * 1000);
}

std::vector<Status> Bus::Impl::Finish(std::vector<RemoteOutcome> outcomes) {
  if (!engine_) return std::vector<Status>(outcomes.size(), NotRunning());
  return engine_->broker().Finish(std::move(outcomes));
}

void Bus::Impl::ShowLease(Record& record) const {
  if (!engine_) return;
  std::string worker;
  int64_t expires_us = 0;
  uint32_t attempt = 0;
  if (!engine_->broker().Holder(record.command.id, &worker, &expires_us, &attempt)) return;
  record.state = State::kRunning;
  record.attempt = attempt;
  record.lease_worker = std::move(worker);
  record.lease_expires_us = expires_us;
}

}  // namespace cmdq
