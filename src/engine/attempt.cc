#include "engine/attempt.h"

#include <fmt/format.h>

#include <chrono>
#include <exception>

#include "engine/backoff.h"

namespace cmdq::engine {
namespace {

bool IsPermanent(StatusCode code) {
  return code == StatusCode::kInvalidArgument || code == StatusCode::kFailedPrecondition;
}

Result<std::string> CallHandler(TypeEntry& type, const HandlerContext& ctx) {
  try {
    return type.handler.execute(ctx);
  } catch (const std::exception& e) {
    return Error(Status::Internal(fmt::format("handler threw: {}", e.what())));
  } catch (...) {
    return Error(Status::Internal("handler threw a non-standard exception"));
  }
}

void RecordRunTime(TypeEntry& type, int64_t run_ns) {
  // An exponential moving average (1/8 weight); races between workers only blur it.
  const int64_t avg = type.avg_run_ns.load(std::memory_order_relaxed);
  type.avg_run_ns.store(avg + (run_ns - avg) / 8, std::memory_order_relaxed);
}

}  // namespace

uint32_t MaxAttempts(const Command& command, const TypeEntry& type) {
  return command.max_attempts != 0 ? command.max_attempts : type.options.max_attempts;
}

int64_t Deadline(const Command& command, const TypeEntry& type, int64_t start_us) {
  const int64_t timeout_ms =
      command.timeout_ms != 0 ? command.timeout_ms : type.options.timeout.count();
  return timeout_ms > 0 ? start_us + timeout_ms * 1000 : 0;
}

Outcome RunAttempt(TypeEntry& type, const Command& command, const AttemptSpec& spec,
                   std::stop_token stop, const Clock& clock) {
  HandlerContext ctx(command, spec.attempt, spec.deadline_us, std::move(stop), &clock);
  Result<std::string> r = CallHandler(type, ctx);
  const int64_t end_us = clock.NowMicros();
  RecordRunTime(type, (end_us - spec.start_us) * 1000);

  return Judge(type, spec, std::move(r), end_us);
}

Outcome Judge(const TypeEntry& type, const AttemptSpec& spec, Result<std::string> r,
              int64_t end_us) {
  // >=, as HandlerContext::expired() counts it: a handler that stopped because its
  // deadline came must not then be judged in time.
  if (r && spec.deadline_us != 0 && end_us >= spec.deadline_us) {
    r = Error(Status::DeadlineExceeded("the attempt ran past its timeout"));
  }
  Outcome out;
  out.end_us = end_us;
  if (r) {
    out.to = State::kSucceeded;
    out.result = std::move(*r);
    return out;
  }
  out.error = r.error().ToString();
  out.code = r.error().code();
  const bool spent = spec.attempts_in_budget >= spec.max_attempts;
  if (IsPermanent(r.error().code()) || spent) {
    out.to = State::kDead;
    return out;
  }
  out.to = State::kFailed;
  out.next_attempt_us = end_us + BackoffMicros(type.options, spec.attempts_in_budget, UnitRandom());
  return out;
}

void AppendStart(StoreBatch& batch, CommandId id, State from, uint32_t attempt, int64_t time_us,
                 const std::string& worker) {
  if (from != State::kPending) batch.Apply(id, from, State::kPending, attempt - 1, time_us);
  batch.Apply(id, State::kPending, State::kRunning, attempt, time_us).worker = worker;
}

void AppendOutcome(StoreBatch& batch, CommandId id, uint32_t attempt, int64_t time_us,
                   const std::string& worker, Outcome&& outcome) {
  const bool dead = outcome.to == State::kDead;
  Transition& done =
      batch.Apply(id, State::kRunning, dead ? State::kFailed : outcome.to, attempt, time_us);
  done.worker = worker;
  if (!outcome.error.empty()) done.message = outcome.error;
  done.error = std::move(outcome.error);
  if (outcome.to == State::kSucceeded) done.result = std::move(outcome.result);
  done.next_attempt_us = outcome.next_attempt_us;
  if (dead) {
    batch.Apply(id, State::kFailed, State::kDead, attempt, time_us).message =
        "no attempts left, or a permanent error";
  }
}

}  // namespace cmdq::engine
