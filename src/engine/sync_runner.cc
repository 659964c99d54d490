// The sync mode: a command runs to its end in the caller's thread, retries included.
// A new command's attempt is one store write (insert, start and outcome together), so
// the sync path costs one lock more than calling the handler directly; a command that
// was visible before its attempt (scheduled, retrying, re-driven) first claims itself
// with a write of its own.
#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "engine/attempt.h"
#include "engine/bus_impl.h"
#include "engine/steady_now.h"

namespace cmdq {
namespace {

constexpr const char* kCallerWorker = "caller";
using engine::SteadyNowNs;

// The thread's reusable batch, so that a sync submit allocates no batch of its own; a
// handler that submits in turn (nested) gets a fresh one.
class ScratchBatch {
 public:
  ScratchBatch() : nested_(depth_++ > 0) { batch().Clear(); }
  ~ScratchBatch() {
    batch().Clear();
    --depth_;
  }
  ScratchBatch(const ScratchBatch&) = delete;
  ScratchBatch& operator=(const ScratchBatch&) = delete;
  StoreBatch& batch() { return nested_ ? own_ : shared_; }

 private:
  static thread_local int depth_;
  static thread_local StoreBatch shared_;
  const bool nested_;
  StoreBatch own_;
};

thread_local int ScratchBatch::depth_ = 0;
thread_local StoreBatch ScratchBatch::shared_;

}  // namespace

// Sleeps until the clock reads `unix_us`. Returns kCancelled when the bus stops meanwhile.
Status Bus::Impl::WaitUntil(int64_t unix_us) {
  for (;;) {
    const int64_t left = unix_us - clock_->NowMicros();
    if (left <= 0) return Status::Ok();
    if (stop_.stop_requested()) return Status(StatusCode::kCancelled, "the bus is stopping");
    std::this_thread::sleep_for(std::chrono::microseconds(std::min<int64_t>(left, 10'000)));
  }
}

Result<Bus::Impl::SyncResult> Bus::Impl::RunSync(std::shared_ptr<const Command> cmd,
                                                 engine::TypeEntry& type, uint32_t first_attempt,
                                                 State from, bool insert) {
  const int64_t submitted_ns = options_.on_finished ? SteadyNowNs() : 0;
  const uint32_t max_attempts = engine::MaxAttempts(*cmd, type);
  ScratchBatch scratch;
  StoreBatch& batch = scratch.batch();
  if (insert) {
    from = cmd->not_before_us > cmd->created_at_us ? State::kScheduled : State::kPending;
    batch.Insert(cmd, from, cmd->created_at_us);
    if (from == State::kScheduled) {
      // Stored before the wait, so that it can be seen and cancelled meanwhile.
      if (Status s = store_->Write(batch, WriteOptions{}); !s.ok()) return Error(s);
      batch.Clear();
      if (Status s = WaitUntil(cmd->not_before_us); !s.ok()) return Error(s);
    }
  }
  const uint32_t budget_start = first_attempt - 1;
  for (uint32_t attempt = first_attempt;; ++attempt) {
    // A command others could see before this attempt (it waited for its time or its
    // retry, or was re-driven) may be cancelled meanwhile: claim it with its own
    // `running` write before the handler runs, so that a cancel either lands first (and
    // the handler never runs) or finds it running (and is refused). A new pending
    // command is stored with its outcome, in one write.
    const bool claim = !insert || from != State::kPending;  // retries: from is kFailed
    // A new pending command starts as it is admitted: the clock was read for its
    // created_at a few hundred nanoseconds ago (a reading costs ~25 ns here, a tenth of
    // the whole sync path's own work).
    int64_t start_us = claim ? clock_->NowMicros() : cmd->created_at_us;
    if (claim) {
      engine::AppendStart(batch, cmd->id, from, attempt, start_us, kCallerWorker);
      Status w = store_->Write(batch, WriteOptions{});
      batch.Clear();
      if (w.code() == StatusCode::kFailedPrecondition || w.code() == StatusCode::kNotFound) {
        // Cancelled, or cancelled and already forgotten (retention): else a real error.
        auto now = store_->Get(cmd->id);
        if (!now || now->state == State::kCancelled) {
          return SyncResult{State::kCancelled, {}, Status(StatusCode::kCancelled, "cancelled")};
        }
      }
      if (!w.ok()) return Error(w);
      start_us = clock_->NowMicros();  // the handler's time starts after the claim
    }
    engine::AttemptSpec spec{.attempt = attempt,
                             .attempts_in_budget = attempt - budget_start,
                             .max_attempts = max_attempts,
                             .deadline_us = engine::Deadline(*cmd, type, start_us),
                             .start_us = start_us};
    engine::Outcome out = engine::RunAttempt(type, *cmd, spec, stop_.get_token(), *clock_);
    SyncResult done{.state = out.to, .result = out.result, .error = Status::Ok()};
    if (out.to != State::kSucceeded) done.error = Status(out.code, out.error);
    const int64_t next = out.next_attempt_us;
    if (!claim) engine::AppendStart(batch, cmd->id, from, attempt, start_us, kCallerWorker);
    const int64_t end_us = out.end_us;
    engine::AppendOutcome(batch, cmd->id, attempt, end_us, kCallerWorker, std::move(out));
    Status w = store_->Write(batch, WriteOptions{});
    batch.Clear();
    if (!w.ok()) return Error(w);
    OnStored(cmd->id, done.state, attempt, submitted_ns, options_.on_finished ? SteadyNowNs() : 0,
             type.name, end_us - start_us);
    if (done.state != State::kFailed) return done;
    from = State::kFailed;
    if (Status s = WaitUntil(next); !s.ok()) return Error(s);
  }
}

}  // namespace cmdq
