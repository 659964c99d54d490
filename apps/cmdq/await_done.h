// Waiting for a benchmark's commands to finish, with a stall guard.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

namespace cmdq::app {

// Polls until done() reaches target(); false if done() made no progress for `stall`.
// Both are callables returning uint64_t (target may grow while producers still submit).
template <typename Done, typename Target>
bool AwaitDone(Done done, Target target, std::chrono::milliseconds stall,
               std::chrono::milliseconds poll) {
  using Clock = std::chrono::steady_clock;
  uint64_t seen = 0;
  auto last_progress = Clock::now();
  while (done() < target()) {
    std::this_thread::sleep_for(poll);
    const uint64_t now_done = done();
    if (now_done != seen) {
      seen = now_done;
      last_progress = Clock::now();
    } else if (Clock::now() - last_progress > stall) {
      return false;
    }
  }
  return true;
}

}  // namespace cmdq::app
