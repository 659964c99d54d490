// Handlers: the code that executes (and optionally undoes) one type of command, and the
// per-type policy the Bus applies to it (retries, backoff, timeout, ordering).
//
// A handler may run on any worker thread, and concurrently for different keys; it must
// be thread-safe. It returns its result bytes, or an error: kInvalidArgument and
// kFailedPrecondition are permanent (the command goes dead at once), any other error is
// retried while attempts remain.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "cmdq/command.h"
#include "cmdq/status.h"

namespace cmdq {

// What a handler sees of the run it is part of. Valid only during the call.
class HandlerContext {
 public:
  HandlerContext(const Command& command, uint32_t attempt, int64_t deadline_us,
                 std::stop_token stop, const class Clock* clock)
      : command_(command),
        attempt_(attempt),
        deadline_us_(deadline_us),
        stop_(std::move(stop)),
        clock_(clock) {}

  const Command& command() const { return command_; }
  uint32_t attempt() const { return attempt_; }  // 1 on the first run
  // Unix µs by which the attempt must finish; 0 = no timeout.
  int64_t deadline_us() const { return deadline_us_; }
  // Requested when the deadline passes or the bus stops now; for blocking waits.
  std::stop_token stop_token() const { return stop_; }
  // True once the deadline has passed or a stop was requested: time to give up.
  bool expired() const;

 private:
  const Command& command_;
  uint32_t attempt_;
  int64_t deadline_us_;
  std::stop_token stop_;
  const class Clock* clock_;
};

using ExecuteFn = std::function<Result<std::string>(const HandlerContext&)>;
// Undoes a succeeded command; gets the result its execute returned.
using UndoFn = std::function<Status(const HandlerContext&, std::string_view result)>;

struct Handler {
  ExecuteFn execute;  // required
  UndoFn undo;        // optional: without it, undo is refused
};

struct TypeOptions {
  // Attempts before a command goes dead (>= 1). More tolerate longer outages downstream.
  uint32_t max_attempts = 3;
  // Backoff before retry n (n >= 1) is min(backoff_max, backoff_initial * multiplier^(n-1)),
  // shortened by a random fraction of at most `jitter` (0..1) so retries spread out.
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{30'000};
  double backoff_multiplier = 2.0;
  double jitter = 0.2;
  // Per-attempt timeout; 0 = none. An attempt past it fails with kDeadlineExceeded and is
  // retried; the handler sees the deadline and a stop token.
  std::chrono::milliseconds timeout{30'000};
  // Ordered types run one command per key at a time, in submit order, also across
  // retries. Unordered types spread over all workers for throughput.
  bool ordered = true;
  // Unordered types only: at most this many commands of one key at once; 0 = unlimited.
  uint32_t max_concurrency_per_key = 0;
  // Ordered types only: when a command goes dead, its key's later commands wait until it
  // is re-driven (true) or move on at once (false, the default).
  bool park_key_on_dead = false;
};

}  // namespace cmdq
