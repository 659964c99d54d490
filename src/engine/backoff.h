// Retry backoff: exponential with a cap, shortened by random jitter so that commands
// that failed together do not retry together.
#pragma once

#include <cstdint>

#include "cmdq/handler.h"

namespace cmdq::engine {

// Delay (µs) before the retry that follows failed attempt `attempt` (1-based).
// `unit_random` in [0, 1) picks the jitter; the result lies in
// [base * (1 - jitter), base] where base = min(max, initial * multiplier^(attempt-1)).
int64_t BackoffMicros(const TypeOptions& options, uint32_t attempt, double unit_random);

// A fast per-thread random number in [0, 1).
double UnitRandom();

}  // namespace cmdq::engine
