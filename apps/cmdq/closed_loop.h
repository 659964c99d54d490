// ClosedLoop: how W1.sat's producers pace themselves (decision 0010), in process and over
// HTTP: they take batches from a fixed budget of commands, and before submitting a batch
// wait until acknowledged - done leaves room for it under the in-flight bound. Latency is
// then about in-flight / throughput (Little's law) rather than a backlog the generator
// piled up. Thread-safe: the counters are atomics shared by producers and workers.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace cmdq::app {

struct ClosedLoop {
  uint64_t commands = 0;   // the budget of the run
  uint64_t batch = 256;    // commands per submit
  uint64_t in_flight = 0;  // submitted but not done, at most (at least one batch)
  std::chrono::steady_clock::time_point stop_submitting;

  // Takes up to `batch` commands from the budget that `claimed` counts; 0 when it is
  // spent or the time to submit is over.
  uint64_t Claim(std::atomic<uint64_t>& claimed) const {
    if (std::chrono::steady_clock::now() >= stop_submitting) return 0;
    const uint64_t first = claimed.fetch_add(batch);
    if (first >= commands) return 0;
    return std::min(batch, commands - first);
  }

  // Waits while `n` more would put more than in_flight commands in flight.
  void AwaitRoom(const std::atomic<uint64_t>& acknowledged, const std::atomic<uint64_t>& done,
                 uint64_t n) const {
    while (acknowledged.load(std::memory_order_acquire) + n >
           done.load(std::memory_order_acquire) + in_flight) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
};

}  // namespace cmdq::app
