// TierStats: what the demo counts while one tier runs, fed by the Bus's on_finished
// callback (any worker thread) and the simulated users (their own threads). All counters
// are relaxed atomics: they are read for display, not to synchronize.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "cmdq/bus.h"
#include "latency_histogram.h"

namespace cmdq::app {

struct TierStats {
  std::atomic<uint64_t> submitted{0};
  std::atomic<uint64_t> submit_errors{0};
  std::atomic<uint64_t> finished{0};  // reached a final state
  std::atomic<uint64_t> succeeded{0};
  std::atomic<uint64_t> retries{0};  // failed attempts that will be retried
  std::atomic<uint64_t> dead{0};
  LatencyHistogram latency;  // submit -> final state, ns

  void OnFinished(const Completion& completion);
};

// One redraw of the live line: rate and latency over the last interval, totals otherwise.
class TierProgress {
 public:
  TierProgress(std::string tier, const TierStats& stats, const Bus& bus, double seconds);
  std::string Render();

 private:
  std::string tier_;
  const TierStats& stats_;
  const Bus& bus_;
  double seconds_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_time_;
  uint64_t last_finished_ = 0;
  HistogramSnapshot last_snapshot_;
};

}  // namespace cmdq::app
