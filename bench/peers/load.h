// The W1 load (WORKLOADS.md) against a Peer: producer threads submit 1 KB commands through
// the peer's producer connections, consumer threads take, acknowledge and count them.
//
// W1.sat is a closed loop, as cmdq's own W1.sat (decision 0010): at most `in_flight`
// commands submitted but not done, a budget of `commands` or `seconds` of submitting.
// W1.10k is an open loop: command i is due at start + i / rate and carries that due time,
// so a system that falls behind shows it in its latency. Commands not done when the run
// ends are counted in `extra.unfinished` and, for W1.10k, enter the latency histogram with
// their age at the end (a lower bound of what they would have taken): never left out.
#pragma once

#include <cstdint>
#include <string>

#include "bench_result.h"
#include "cmdq/status.h"
#include "peer.h"

namespace cmdq::peers {

struct LoadOptions {
  std::string workload = "W1.sat";  // "W1.sat" or "W1.10k"
  std::string system;               // the result's "transport": "redis", "amqp", ...
  uint64_t commands = 200'000;      // W1.sat: commands in the run, at most
  double seconds = 20;              // W1.sat: stop submitting after; W1.10k: offered this long
  double rate = 10'000;             // W1.10k: commands/s offered
  uint64_t in_flight = 4096;        // W1.sat: submitted but not done, at most
  double drain_seconds = 10;        // after the last is due, wait this long for the rest
  int producers = 2;
  int consumers = 2;
  size_t users = 10'000;
  size_t payload_bytes = 1024;
};

// Runs the load once; the error is the first connection that could not be opened.
// Errors during the run are counted in the result's `extra` and reported on stderr.
Result<app::BenchResult> RunW1(Peer& peer, const PeerOptions& peer_options,
                               const LoadOptions& options);

}  // namespace cmdq::peers
