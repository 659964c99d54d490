#include "engine/batch_runner.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "engine/attempt.h"
#include "engine/lease_broker.h"
#include "engine/steady_now.h"

namespace cmdq::engine {
namespace {

constexpr size_t kMaxTasksPerRun = 256;
// Store items per write. A synced write waits ~0.5 ms for its fsync whatever its size, so
// it takes more (from several partitions: see HasRoom): 192 held W1.sat's durable groups
// to ~63 commands per fsync and the disk's latency bounded the rate; 1024 lets them grow
// to ~185.
constexpr size_t kMaxBatchWrites = 192;
constexpr size_t kMaxSyncedBatchWrites = 1024;
constexpr auto kMaxRunTime = std::chrono::microseconds(2000);
// Types whose handlers take longer than this on average store `running` before the run,
// so that readers see it; faster ones store it with the outcome, in the same write.
constexpr int64_t kSlowRunNs = 200'000;
constexpr int64_t kLimitRetryUs = 1000;

// Known slow (its average is measured and above kSlowRunNs): its `running` is stored before
// the run. A type not yet measured is neither known slow nor known quick.
bool KnownSlow(const TypeEntry& type) {
  return type.avg_run_ns.load(std::memory_order_relaxed) > kSlowRunNs;
}
bool KnownQuick(const TypeEntry& type) {
  const int64_t avg = type.avg_run_ns.load(std::memory_order_relaxed);
  return avg != 0 && avg <= kSlowRunNs;
}

bool IsPassing(StatusCode code) {
  return code == StatusCode::kIoError || code == StatusCode::kResourceExhausted ||
         code == StatusCode::kUnavailable;
}

}  // namespace

Status WriteWithRetry(const RunnerEnv& env, StoreBatch& batch) {
  for (;;) {
    // A failed Commit leaves the batch's items in place, ready for the retry.
    Status s = env.committer ? env.committer->Commit(batch) : env.store.Write(batch, {});
    if (s.ok()) {
      batch.Clear();
      return s;
    }
    if (!IsPassing(s.code()) || env.stop_now.load()) {
      fmt::print(stderr, "cmdq: store write of {} items failed: {}\n", batch.size(), s.ToString());
      batch.Clear();
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void BatchRunner::Run(Partition& p, WorkerSlot& slot, bool joined) {
  const auto started = std::chrono::steady_clock::now();
  const int64_t now = env_.clock.NowMicros();
  now_us_ = now;
  p.DrainInbox(now);
  p.ReleaseDue(now);
  for (size_t n = 0; n < kMaxTasksPerRun && !env_.stop_now.load(std::memory_order_relaxed); ++n) {
    if (joined && !MayJoin(p)) break;
    Task* task = p.PopReady();
    if (!task) break;
    RunTask(p, task, slot);
    if (batch_.size() >= MaxWrites()) Flush();
    // Reading the clock costs; every 16th task is often enough to bound a batch's time.
    if ((n & 15) == 15 && std::chrono::steady_clock::now() - started > kMaxRunTime) break;
  }
  p.PublishOldest();
}

bool BatchRunner::MayJoin(const Partition& p) const {
  // The outcomes waiting hold every partition this worker claimed, so a joined partition
  // runs only what is known to be quick (a handler's time is not bounded from outside):
  // a type whose average is measured and fast, or a remote one (offering is instant),
  // and only while the first outcome has waited under kMaxRunTime.
  const Task* next = p.PeekReady();
  if (next == nullptr) return true;
  return (next->type->remote || KnownQuick(*next->type)) && WithinBounds();
}

bool BatchRunner::WithinBounds() const {
  return batch_.size() < MaxWrites() &&
         std::chrono::steady_clock::now() - first_waiting_ < kMaxRunTime;
}

size_t BatchRunner::MaxWrites() const {
  return env_.committer != nullptr ? kMaxSyncedBatchWrites : kMaxBatchWrites;
}

bool BatchRunner::HasRoom() const {
  // Only a synced write is worth waiting for: in memory each partition writes at once.
  // The first outcomes waiting bound how long the others may add to them.
  return env_.committer != nullptr && !batch_.empty() && WithinBounds();
}

bool BatchRunner::Admitted(Partition& p, Task* task, int64_t now_us) {
  const uint32_t limit = task->type->options.max_concurrency_per_key;
  if (task->ordered() || limit == 0) return true;
  if (env_.limiter.TryAcquire(task->command->key, limit)) return true;
  p.Defer(task, now_us + kLimitRetryUs);
  return false;
}

void BatchRunner::RunTask(Partition& p, Task* task, WorkerSlot& slot) {
  TypeEntry& type = *task->type;
  const Command& cmd = *task->command;
  if (!Admitted(p, task, now_us_)) return;
  if (type.remote) {
    // A remote worker runs it; its outcome comes back settled. Offered after the write
    // of the outcomes waiting (Flush): its key's previous outcome may be among them, and
    // the remote outcome must not be stored before it.
    offers_.push_back(task);
    return;
  }
  const uint32_t attempt = task->attempt + 1;
  const bool slow = KnownSlow(type);
  if (slow) {
    Flush();
    AppendStart(batch_, cmd.id, task->state, attempt, env_.clock.NowMicros(), slot.name());
    WriteWithRetry(env_, batch_);
    now_us_ = env_.clock.NowMicros();  // the handler's time starts after the write
  }
  // Back to back, a task starts when the one before it ended: one clock read per task.
  // (Every store write refreshes now_us_, so a write is never counted as a run.)
  const int64_t start_us = now_us_;
  AttemptSpec spec{.attempt = attempt,
                   .attempts_in_budget = attempt - task->budget_start,
                   .max_attempts = task->max_attempts,
                   .deadline_us = Deadline(cmd, type, start_us),
                   .start_us = start_us};
  Outcome outcome = RunAttempt(type, cmd, spec, slot.Arm(spec.deadline_us), env_.clock);
  slot.Disarm();
  if (!task->ordered() && type.options.max_concurrency_per_key != 0) env_.limiter.Release(cmd.key);

  if (!slow) AppendStart(batch_, cmd.id, task->state, attempt, start_us, slot.name());
  task->attempt = attempt;
  const State to = outcome.to;
  const int64_t next = outcome.next_attempt_us;
  const int64_t end_us = outcome.end_us;
  task->run_us = end_us - start_us;
  now_us_ = end_us;
  AppendOutcome(batch_, cmd.id, attempt, end_us, slot.name(), std::move(outcome));
  Settle(p, task, to, next);
}

void BatchRunner::Settle(Partition& p, Task* task, State state, int64_t retry_due_us) {
  if (stored_.empty()) first_waiting_ = std::chrono::steady_clock::now();
  task->state = state;
  stored_.push_back({&p, task, state, p.Place(task, state, retry_due_us)});
}

void BatchRunner::Flush() {
  const bool wrote = !batch_.empty();
  if (wrote) WriteWithRetry(env_, batch_);
  const int64_t stored_ns = stored_.empty() ? 0 : SteadyNowNs();
  for (const Stored& s : stored_) {
    env_.on_stored(*s.task, s.state, stored_ns);
    if (!s.left) continue;
    s.partition->ReleaseOne();
    delete s.task;
  }
  stored_.clear();
  env_.broker->OfferAll(offers_);
  offers_.clear();
  if (wrote) now_us_ = env_.clock.NowMicros();
}

}  // namespace cmdq::engine
