// The steady clock in nanoseconds, for submit->done latency (Completion): the engine's
// stamps of when a command was submitted and when its outcome was stored.
#pragma once

#include <chrono>
#include <cstdint>

namespace cmdq::engine {

inline int64_t SteadyNowNs() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

}  // namespace cmdq::engine
