// The built-in command types of DESIGN.md §6, which every cmdq bus has, for demos,
// benchmarks and tests:
//   cmdq.noop   does nothing; result empty
//   cmdq.echo   result = payload
//   cmdq.sleep  {"ms": N}: sleeps N ms (gives up early when the deadline passes or the bus
//               stops now)
//   cmdq.fail   {"times": N}: fails its first N attempts (retryable), then succeeds
// The handlers are stateless and thread-safe.
#pragma once

#include "cmdq/bus.h"
#include "cmdq/handler.h"
#include "cmdq/status.h"

namespace cmdq::app {

inline constexpr char kNoopType[] = "cmdq.noop";
inline constexpr char kEchoType[] = "cmdq.echo";
inline constexpr char kSleepType[] = "cmdq.sleep";
inline constexpr char kFailType[] = "cmdq.fail";

Handler NoopHandler();
Handler EchoHandler();
Handler SleepHandler();
Handler FailHandler();

// Registers the four types on `bus` (before Start) with `options` as their policy.
Status RegisterBuiltinTypes(Bus& bus, const TypeOptions& options = {});

}  // namespace cmdq::app
