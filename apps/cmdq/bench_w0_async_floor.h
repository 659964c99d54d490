// The W0.async keeping floor: what any async dispatcher that keeps its recent commands
// pays at least on this machine, measured beside the bus in the same run.
//
// One producer thread builds the same commands as W0.async's producers and hands them, 64
// at a time, over a lock-free queue to one consumer thread, which runs the no-op handler
// and keeps each command in a ring as long as the memory store keeps records by default;
// the oldest is let go on the consumer's thread, as a bus's worker lets go of what its
// store forgets. The producer runs at most as far ahead as the bus's queues allow. No
// ids, no store, no per-key order, no latency stamps: a bus does all of that on top, so
// its throughput can only be below this one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cmdq/command.h"
#include "workload_data.h"

namespace cmdq::app {

inline constexpr char kW0AsyncType[] = "bench.noop";

// A W0.async command as its load generator builds it: the payload is copied from the pool.
inline Command W0AsyncCommand(const std::string& key, const std::string& payload) {
  Command command;
  command.type = kW0AsyncType;
  command.key = key;
  command.payload = payload;
  return command;
}

// Commands per second through the floor's pipeline: `commands` over `keys`, each kept
// until `kept` newer ones came in, at most `ahead` handed over and not yet run.
double W0AsyncKeepingFloor(const PayloadPool& payloads, const std::vector<std::string>& keys,
                           uint64_t commands, size_t kept, size_t ahead);

}  // namespace cmdq::app
