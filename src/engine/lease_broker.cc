#include "engine/lease_broker.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/attempt.h"
#include "engine/steady_now.h"

namespace cmdq::engine {
namespace {

constexpr size_t kIdDigits = 16;

Status UnknownLease(std::string_view token) {
  return Status(StatusCode::kNotFound,
                fmt::format("lease \"{}\" is unknown, expired or finished already", token),
                "lease");
}

// The command id a token names: tokens are minted as "<id>-<attempt>-<seq>".
Result<CommandId> IdOfToken(std::string_view token) {
  if (token.size() <= kIdDigits || token[kIdDigits] != '-') return Error(UnknownLease(token));
  auto id = CommandId::Parse(token.substr(0, kIdDigits));
  if (!id) return Error(UnknownLease(token));
  return *id;
}

}  // namespace

LeaseBroker::LeaseBroker(RunnerEnv env, SettleFn settle, ExpiredFn on_expired, LeasedFn on_leased)
    : env_(env),
      settle_(std::move(settle)),
      on_expired_(std::move(on_expired)),
      on_leased_(std::move(on_leased)) {}

LeaseBroker::~LeaseBroker() = default;

void LeaseBroker::OfferAll(std::span<Task* const> tasks) {
  if (tasks.empty()) return;
  const int64_t now_ns =
      on_leased_ ? std::chrono::steady_clock::now().time_since_epoch().count() : 0;
  // Read under the lock, before a worker may lease, finish and free the tasks.
  std::vector<std::pair<const TypeEntry*, size_t>> per_type;
  {
    std::lock_guard lock(mu_);
    for (Task* task : tasks) {
      task->offered_ns = now_ns;
      offered_[task->type].push_back(task);
      auto it = std::find_if(per_type.begin(), per_type.end(),
                             [task](const auto& t) { return t.first == task->type; });
      if (it == per_type.end()) {
        per_type.emplace_back(task->type, 1);
      } else {
        ++it->second;
      }
    }
  }
  offered_cv_.notify_all();
  for (const auto& [type, count] : per_type) {
    for (size_t i = 0; i < count && WakeOne({type}); ++i) {
    }
  }
}

bool LeaseBroker::WakeOne(const std::vector<const TypeEntry*>& types) {
  for (;;) {
    std::function<bool()> ready;
    uint64_t ticket = 0;
    {
      std::lock_guard lock(mu_);
      auto it = std::find_if(listeners_.begin(), listeners_.end(), [&](const Listener& l) {
        return std::find_first_of(l.types.begin(), l.types.end(), types.begin(), types.end()) !=
               l.types.end();
      });
      if (it == listeners_.end()) return false;
      ready = std::move(it->ready);
      ticket = it->ticket;
      woken_.emplace(ticket, std::move(it->types));
      listeners_.erase(it);
    }
    if (ready()) return true;
    // Its waiter is gone (and will not cancel): forget it, and wake the next one.
    std::lock_guard lock(mu_);
    woken_.erase(ticket);
  }
}

bool LeaseBroker::OfferedLocked(const TypeEntry* type) const {
  auto it = offered_.find(type);
  return it != offered_.end() && !it->second.empty();
}

bool LeaseBroker::AnyOfferedLocked(const std::vector<const TypeEntry*>& types) const {
  return std::any_of(types.begin(), types.end(),
                     [this](const TypeEntry* t) { return OfferedLocked(t); });
}

std::vector<LeaseGrant> LeaseBroker::TakeLocked(const Ask& ask, int64_t now_us) {
  std::vector<LeaseGrant> grants;
  const int64_t now_ns =
      on_leased_ ? std::chrono::steady_clock::now().time_since_epoch().count() : 0;
  for (const TypeEntry* type : ask.types) {
    auto it = offered_.find(type);
    if (it == offered_.end()) continue;
    std::deque<Task*>& queue = it->second;
    while (!queue.empty() && grants.size() < ask.max) {
      Task* task = queue.front();
      queue.pop_front();
      if (on_leased_) on_leased_(type->name, now_ns - task->offered_ns);
      const uint32_t attempt = task->attempt + 1;
      Held held{.task = task,
                .token = fmt::format("{}-{}-{}", task->id().ToString(), attempt, next_seq_++),
                .worker = ask.worker,
                .attempt = attempt,
                .start_us = now_us,
                .deadline_us = now_us + ask.duration_us,
                .duration_us = ask.duration_us};
      const int64_t timeout_ms = task->command->timeout_ms != 0 ? task->command->timeout_ms
                                                                : type->options.timeout.count();
      grants.push_back(LeaseGrant{.token = held.token,
                                  .command = task->command,
                                  .attempt = attempt,
                                  .deadline_us = held.deadline_us,
                                  .timeout_ms = static_cast<uint32_t>(timeout_ms)});
      if (held.deadline_us < next_expiry_us_.load(std::memory_order_relaxed)) {
        next_expiry_us_.store(held.deadline_us, std::memory_order_relaxed);
      }
      leased_.emplace(task->id().value(), std::move(held));
    }
    if (grants.size() >= ask.max) break;
  }
  return grants;
}

Result<std::vector<LeaseGrant>> LeaseBroker::Lease(const Ask& ask,
                                                   std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!leasing_) return Error(Status::Unavailable("the bus is stopping: no new leases"));
    std::vector<LeaseGrant> grants = TakeLocked(ask, env_.clock.NowMicros());
    // A lease without wait (an event loop's) answers without a futex call.
    if (!grants.empty() || std::chrono::steady_clock::now() >= deadline) return grants;
    if (offered_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (!leasing_) return Error(Status::Unavailable("the bus is stopping: no new leases"));
      return TakeLocked(ask, env_.clock.NowMicros());
    }
  }
}

uint64_t LeaseBroker::OnLeasable(std::vector<const TypeEntry*> types, std::function<bool()> ready) {
  {
    std::lock_guard lock(mu_);
    if (leasing_ && !AnyOfferedLocked(types)) {
      const uint64_t ticket = next_ticket_++;
      listeners_.push_back(Listener{ticket, std::move(types), std::move(ready)});
      return ticket;
    }
  }
  ready();
  return 0;
}

Task* LeaseBroker::Withdraw(CommandId id) {
  std::lock_guard lock(mu_);
  for (auto& [type, queue] : offered_) {
    auto it = std::find_if(queue.begin(), queue.end(), [id](Task* t) { return t->id() == id; });
    if (it == queue.end()) continue;
    Task* task = *it;
    queue.erase(it);
    return task;
  }
  return nullptr;
}

void LeaseBroker::CancelLeasable(uint64_t ticket) {
  std::vector<const TypeEntry*> pass_on;
  {
    std::lock_guard lock(mu_);
    if (auto w = woken_.find(ticket); w != woken_.end()) {
      // Woken: if it left tasks behind, another listener must hear of them. Type by type:
      // a listener of a type with nothing offered would waste the wake-up.
      for (const TypeEntry* t : w->second) {
        if (OfferedLocked(t)) pass_on.push_back(t);
      }
      woken_.erase(w);
    }
  }
  for (const TypeEntry* t : pass_on) WakeOne({t});
  std::lock_guard lock(mu_);
  std::erase_if(listeners_, [ticket](const Listener& l) { return l.ticket == ticket; });
}

Result<int64_t> LeaseBroker::Heartbeat(std::string_view token, int64_t extend_us) {
  auto id = IdOfToken(token);
  if (!id) return Error(id.error());
  std::lock_guard lock(mu_);
  auto it = leased_.find(id->value());
  if (it == leased_.end() || it->second.token != token) return Error(UnknownLease(token));
  Held& held = it->second;
  held.deadline_us = env_.clock.NowMicros() + (extend_us > 0 ? extend_us : held.duration_us);
  return held.deadline_us;
}

bool LeaseBroker::Holder(CommandId id, std::string* worker, int64_t* expires_us,
                         uint32_t* attempt) {
  std::lock_guard lock(mu_);
  auto it = leased_.find(id.value());
  if (it == leased_.end()) return false;
  *worker = it->second.worker;
  *expires_us = it->second.deadline_us;
  *attempt = it->second.attempt;
  return true;
}

std::vector<Status> LeaseBroker::Finish(std::vector<RemoteOutcome> outcomes) {
  std::vector<Status> statuses(outcomes.size());
  std::vector<Ended> ended;
  std::vector<size_t> index;  // ended[i] answers outcomes[index[i]]
  ended.reserve(outcomes.size());
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < outcomes.size(); ++i) {
      RemoteOutcome& o = outcomes[i];
      auto it = leased_.find(o.id.value());
      if (it == leased_.end() || it->second.token != o.token) {
        statuses[i] = UnknownLease(o.token);
        continue;
      }
      Result<std::string> r = std::move(o.result);
      if (!o.ok) {
        // Retryable failures retry while attempts remain; the others are permanent.
        r = Error(Status(o.retryable ? StatusCode::kUnavailable : StatusCode::kFailedPrecondition,
                         std::move(o.error)));
      }
      ended.push_back(Ended{std::move(it->second), std::move(r), !o.ok});
      index.push_back(i);
      leased_.erase(it);
    }
    if (ended.empty()) return statuses;
    ++finishing_;
  }
  const Status s = StoreEnds(ended, env_.clock.NowMicros());
  EndFinishing();
  for (size_t i : index) statuses[i] = s;
  return statuses;
}

void LeaseBroker::EndFinishing() {
  {
    std::lock_guard lock(mu_);
    --finishing_;
  }
  leased_cv_.notify_all();
}

void LeaseBroker::RecomputeExpiryLocked() {
  int64_t next = INT64_MAX;
  for (const auto& [id, held] : leased_) next = std::min(next, held.deadline_us);
  next_expiry_us_.store(next, std::memory_order_relaxed);
}

void LeaseBroker::ExpireDue(int64_t now_us) {
  if (next_expiry_us_.load(std::memory_order_relaxed) > now_us) return;
  std::vector<Ended> ended;
  {
    std::lock_guard lock(mu_);
    for (auto it = leased_.begin(); it != leased_.end();) {
      if (it->second.deadline_us > now_us) {
        ++it;
        continue;
      }
      Held& h = it->second;
      auto err = Status::DeadlineExceeded(
          fmt::format("lease expired: worker \"{}\" neither finished nor heartbeated within {} ms",
                      h.worker, h.duration_us / 1000));
      ended.push_back(Ended{std::move(h), Error(std::move(err)), false});
      it = leased_.erase(it);
    }
    RecomputeExpiryLocked();
    if (ended.empty()) return;
    ++finishing_;
  }
  for (const Ended& e : ended) {
    if (on_expired_) on_expired_(e.held.task->type->name);
  }
  StoreEnds(ended, now_us);
  EndFinishing();
}

Status LeaseBroker::StoreEnds(std::vector<Ended>& ended, int64_t end_us) {
  StoreBatch batch;
  std::vector<Settled> settled;
  settled.reserve(ended.size());
  for (Ended& e : ended) {
    Task* task = e.held.task;
    const Command& cmd = *task->command;
    const AttemptSpec spec{.attempt = e.held.attempt,
                           .attempts_in_budget = e.held.attempt - task->budget_start,
                           .max_attempts = task->max_attempts,
                           .deadline_us = Deadline(cmd, *task->type, e.held.start_us),
                           .start_us = e.held.start_us};
    std::string worker_error = e.worker_error ? e.result.error().message() : std::string();
    Outcome outcome = Judge(*task->type, spec, std::move(e.result), end_us);
    // The worker's own words are the error to keep, unless the deadline overrode them.
    if (e.worker_error && outcome.code != StatusCode::kDeadlineExceeded) {
      outcome.error = std::move(worker_error);
    }
    settled.push_back({task, outcome.to, outcome.next_attempt_us});
    AppendStart(batch, cmd.id, task->state, e.held.attempt, e.held.start_us, e.held.worker);
    AppendOutcome(batch, cmd.id, e.held.attempt, end_us, e.held.worker, std::move(outcome));
  }
  const Status s = WriteWithRetry(env_, batch);
  if (!s.ok()) {
    // Nothing was stored: the commands are still pending; offer them again.
    for (Ended& e : ended) Offer(e.held.task);
    return s;
  }
  const int64_t stored_ns = SteadyNowNs();
  for (size_t i = 0; i < ended.size(); ++i) {
    Task* task = ended[i].held.task;
    task->attempt = ended[i].held.attempt;
    task->run_us = end_us - ended[i].held.start_us;
    task->state = settled[i].state;
    env_.on_stored(*task, settled[i].state, stored_ns);
    if (!task->ordered() && task->type->options.max_concurrency_per_key != 0) {
      env_.limiter.Release(task->command->key);
    }
  }
  settle_(settled);
  return s;
}

void LeaseBroker::StopLeasing() {
  std::vector<std::function<bool()>> wake;
  {
    std::lock_guard lock(mu_);
    leasing_ = false;
    for (Listener& l : listeners_) wake.push_back(std::move(l.ready));
    listeners_.clear();
    woken_.clear();
  }
  offered_cv_.notify_all();
  for (auto& fn : wake) fn();
}

void LeaseBroker::WaitLeased(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  leased_cv_.wait_until(lock, deadline, [this] { return leased_.empty() && finishing_ == 0; });
}

std::vector<Task*> LeaseBroker::TakeAll() {
  std::unique_lock lock(mu_);
  leased_cv_.wait(lock, [this] { return finishing_ == 0; });
  std::vector<Task*> all;
  for (auto& [type, queue] : offered_) all.insert(all.end(), queue.begin(), queue.end());
  for (auto& [id, held] : leased_) all.push_back(held.task);
  offered_.clear();
  leased_.clear();
  next_expiry_us_.store(INT64_MAX);
  return all;
}

}  // namespace cmdq::engine
