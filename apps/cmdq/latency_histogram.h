// LatencyHistogram: a lock-free log-linear histogram of nanosecond latencies, recorded from
// many threads at once (the Bus's on_finished callback runs on every worker).
//
// Buckets are 16 per power of two (at most ~6% relative error), from 1 ns to ~18 minutes.
// Each thread records into one of several cache-line-separated shards with a relaxed
// atomic increment, so recording costs a few ns and threads rarely share a line.
// Snapshot() merges the shards; it may miss records racing with it, never tears one.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace cmdq::app {

class HistogramSnapshot {
 public:
  HistogramSnapshot() = default;
  HistogramSnapshot(std::vector<uint64_t> counts, int64_t max_ns);

  uint64_t count() const { return total_; }
  int64_t max_ns() const { return max_ns_; }
  // The latency below which a fraction `q` (0..1) of the records fall; 0 when empty.
  int64_t PercentileNs(double q) const;
  // The records of `this` that `earlier` had not seen: a window between two snapshots.
  // The window's max is the later snapshot's max (an upper bound).
  HistogramSnapshot Since(const HistogramSnapshot& earlier) const;

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  int64_t max_ns_ = 0;
};

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 4;  // 16 buckets per power of two
  static constexpr int kBuckets = (64 - kSubBits + 1) << kSubBits;

  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void Record(int64_t ns);
  HistogramSnapshot Snapshot() const;

  static int BucketOf(uint64_t ns);
  static int64_t BucketMidpoint(int bucket);

 private:
  static constexpr int kShards = 8;
  struct alignas(64) Shard {
    std::array<std::atomic<uint64_t>, kBuckets> counts{};
    std::atomic<int64_t> max_ns{0};
  };
  std::array<Shard, kShards> shards_;
};

}  // namespace cmdq::app
