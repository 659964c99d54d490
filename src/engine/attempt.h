// One attempt of a command: run its handler, judge the outcome, and describe it as the
// store transitions that record it. Shared by the sync and async modes.
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>

#include "cmdq/clock.h"
#include "cmdq/command.h"
#include "cmdq/store.h"
#include "engine/handler_registry.h"

namespace cmdq::engine {

struct Outcome {
  State to = State::kSucceeded;  // succeeded, failed (a retry follows) or dead
  std::string result;
  std::string error;
  StatusCode code = StatusCode::kOk;  // of the error
  int64_t next_attempt_us = 0;        // when failed
  int64_t end_us = 0;                 // when the handler returned
};

struct AttemptSpec {
  uint32_t attempt = 1;             // 1-based, as stored
  uint32_t attempts_in_budget = 1;  // attempts since the budget began (re-drive resets it)
  uint32_t max_attempts = 1;
  int64_t deadline_us = 0;  // 0 = none
  int64_t start_us = 0;     // when the attempt starts (the caller read the clock)
};

// Attempts allowed for `command` of `type`.
uint32_t MaxAttempts(const Command& command, const TypeEntry& type);
// The deadline of an attempt started at `start_us`, or 0 when it has no timeout.
int64_t Deadline(const Command& command, const TypeEntry& type, int64_t start_us);

// Runs the handler. Never throws: a handler's exception becomes a kInternal error. An
// attempt that ends after its deadline fails with kDeadlineExceeded whatever it returned.
Outcome RunAttempt(TypeEntry& type, const Command& command, const AttemptSpec& spec,
                   std::stop_token stop, const Clock& clock);

// Judges how an attempt that ended at `end_us` with `r` went: succeeded; failed with the
// time of its retry; or dead (a permanent error, or no attempt left). A success past the
// deadline is a kDeadlineExceeded failure. For in-process and remote runs alike.
Outcome Judge(const TypeEntry& type, const AttemptSpec& spec, Result<std::string> r,
              int64_t end_us);

// Appends the start of an attempt: `from` -> pending when `from` is scheduled or failed
// (its wait is over), then pending -> running.
void AppendStart(StoreBatch& batch, CommandId id, State from, uint32_t attempt, int64_t time_us,
                 const std::string& worker);
// Appends the end of an attempt: running -> the outcome, and failed -> dead when no
// attempt is left.
void AppendOutcome(StoreBatch& batch, CommandId id, uint32_t attempt, int64_t time_us,
                   const std::string& worker, Outcome&& outcome);

}  // namespace cmdq::engine
