#include "demo_stats.h"

#include <fmt/format.h>

namespace cmdq::app {

void TierStats::OnFinished(const Completion& completion) {
  switch (completion.state) {
    case State::kFailed:
      retries.fetch_add(1, std::memory_order_relaxed);
      return;  // not final: the command waits for its retry
    case State::kSucceeded:
      succeeded.fetch_add(1, std::memory_order_relaxed);
      break;
    case State::kDead:
      dead.fetch_add(1, std::memory_order_relaxed);
      break;
    default:
      break;
  }
  latency.Record(completion.finished_steady_ns - completion.submitted_steady_ns);
  finished.fetch_add(1, std::memory_order_relaxed);
}

TierProgress::TierProgress(std::string tier, const TierStats& stats, const Bus& bus, double seconds)
    : tier_(std::move(tier)),
      stats_(stats),
      bus_(bus),
      seconds_(seconds),
      start_(std::chrono::steady_clock::now()),
      last_time_(start_) {}

std::string TierProgress::Render() {
  const auto now = std::chrono::steady_clock::now();
  const uint64_t finished = stats_.finished.load(std::memory_order_relaxed);
  const HistogramSnapshot snapshot = stats_.latency.Snapshot();
  const HistogramSnapshot window = snapshot.Since(last_snapshot_);
  const double dt = std::chrono::duration<double>(now - last_time_).count();
  const double rate = dt > 0 ? (finished - last_finished_) / dt : 0;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  last_time_ = now;
  last_finished_ = finished;
  last_snapshot_ = snapshot;
  return fmt::format(
      "{:<8} {:5.1f}/{:.0f}s  rate {:7.0f}/s  p50 {:6.3f} ms  p99 {:6.2f} ms  queue {:6}  "
      "retries {:6}  dead {:5}",
      tier_, elapsed, seconds_, rate, window.PercentileNs(0.50) / 1e6,
      window.PercentileNs(0.99) / 1e6, bus_.QueueDepth(),
      stats_.retries.load(std::memory_order_relaxed), stats_.dead.load(std::memory_order_relaxed));
}

}  // namespace cmdq::app
