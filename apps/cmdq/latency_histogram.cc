#include "latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cmdq::app {
namespace {

// Each thread keeps to one shard, handed out round-robin on first use.
int ThreadShard(int shards) {
  static std::atomic<int> next{0};
  thread_local const int shard = next.fetch_add(1, std::memory_order_relaxed);
  return shard % shards;
}

}  // namespace

int LatencyHistogram::BucketOf(uint64_t ns) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  if (ns < kSub) return static_cast<int>(ns);
  const int exponent = std::bit_width(ns) - 1;  // >= kSubBits
  const int shift = exponent - kSubBits;
  const auto sub = static_cast<int>((ns >> shift) & (kSub - 1));
  return static_cast<int>(kSub) + (shift << kSubBits) + sub;
}

int64_t LatencyHistogram::BucketMidpoint(int bucket) {
  constexpr int kSub = 1 << kSubBits;
  if (bucket < kSub) return bucket;
  const int shift = (bucket - kSub) >> kSubBits;
  const int64_t sub = (bucket - kSub) & (kSub - 1);
  const int64_t low = (int64_t{kSub} + sub) << shift;
  return low + ((int64_t{1} << shift) >> 1);
}

void LatencyHistogram::Record(int64_t ns) {
  if (ns < 0) ns = 0;
  Shard& shard = shards_[ThreadShard(kShards)];
  shard.counts[BucketOf(static_cast<uint64_t>(ns))].fetch_add(1, std::memory_order_relaxed);
  int64_t seen = shard.max_ns.load(std::memory_order_relaxed);
  while (ns > seen && !shard.max_ns.compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
  }
}

HistogramSnapshot LatencyHistogram::Snapshot() const {
  std::vector<uint64_t> counts(kBuckets, 0);
  int64_t max_ns = 0;
  for (const Shard& shard : shards_) {
    for (int b = 0; b < kBuckets; ++b) counts[b] += shard.counts[b].load(std::memory_order_relaxed);
    max_ns = std::max(max_ns, shard.max_ns.load(std::memory_order_relaxed));
  }
  return HistogramSnapshot(std::move(counts), max_ns);
}

HistogramSnapshot::HistogramSnapshot(std::vector<uint64_t> counts, int64_t max_ns)
    : counts_(std::move(counts)), max_ns_(max_ns) {
  for (uint64_t c : counts_) total_ += c;
}

int64_t HistogramSnapshot::PercentileNs(double q) const {
  if (total_ == 0) return 0;
  const auto rank = static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * total_));
  uint64_t seen = 0;
  for (size_t b = 0; b < counts_.size(); ++b) {
    seen += counts_[b];
    if (seen >= std::max<uint64_t>(rank, 1)) {
      return std::min(LatencyHistogram::BucketMidpoint(static_cast<int>(b)), max_ns_);
    }
  }
  return max_ns_;
}

HistogramSnapshot HistogramSnapshot::Since(const HistogramSnapshot& earlier) const {
  std::vector<uint64_t> window = counts_;
  for (size_t b = 0; b < window.size() && b < earlier.counts_.size(); ++b) {
    window[b] -= std::min(window[b], earlier.counts_[b]);
  }
  return HistogramSnapshot(std::move(window), max_ns_);
}

}  // namespace cmdq::app
