// The W0.async keeping floor: what any async dispatcher that keeps its recent commands
// pays at least on this machine, measured beside the bus in the same run.
//
// One producer thread builds the same commands as W0.async's producers and hands them, 64
// at a time, over a lock-free queue to one consumer thread, which runs the no-op handler
// and keeps each command in a ring as long as the memory store keeps records by default;
// the oldest is let go on the consumer's thread, as a bus's worker lets go of what its
// store forgets. The producer runs at most as far ahead as the bus's queues allow. No
// ids, no store, no per-key order, no latency stamps: a bus does all of that on top, so
// its throughput should be below this single-consumer floor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workload_data.h"

namespace cmdq::app {

// Commands per second through the floor's pipeline: `commands` over `keys`, each kept
// until `kept` newer ones came in (at least 1), at most `ahead` handed over and not yet
// run (at least one hand-over of 64).
double W0AsyncKeepingFloor(const PayloadPool& payloads, const std::vector<std::string>& keys,
                           uint64_t commands, size_t kept, size_t ahead);

}  // namespace cmdq::app
