#include "latency_histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace cmdq::app {
namespace {

TEST(LatencyHistogram, BucketsAreMonotonicAndWithinSixPercent) {
  int last = -1;
  for (uint64_t ns = 1; ns < (uint64_t{1} << 40); ns = ns * 9 / 8 + 1) {
    const int bucket = LatencyHistogram::BucketOf(ns);
    EXPECT_GE(bucket, last);
    last = bucket;
    const double mid = static_cast<double>(LatencyHistogram::BucketMidpoint(bucket));
    EXPECT_NEAR(mid, static_cast<double>(ns), 0.07 * static_cast<double>(ns) + 1) << ns;
  }
}

TEST(LatencyHistogram, PercentilesOfAUniformSpread) {
  LatencyHistogram histogram;
  for (int64_t ns = 1; ns <= 100'000; ++ns) histogram.Record(ns * 1000);
  const HistogramSnapshot snapshot = histogram.Snapshot();
  EXPECT_EQ(snapshot.count(), 100'000u);
  EXPECT_NEAR(snapshot.PercentileNs(0.5), 50e6, 50e6 * 0.07);
  EXPECT_NEAR(snapshot.PercentileNs(0.99), 99e6, 99e6 * 0.07);
  EXPECT_EQ(snapshot.max_ns(), 100'000'000);
}

TEST(LatencyHistogram, SinceGivesTheWindow) {
  LatencyHistogram histogram;
  histogram.Record(1000);
  const HistogramSnapshot first = histogram.Snapshot();
  histogram.Record(5'000'000);
  const HistogramSnapshot window = histogram.Snapshot().Since(first);
  EXPECT_EQ(window.count(), 1u);
  EXPECT_NEAR(window.PercentileNs(0.5), 5e6, 5e6 * 0.07);
}

TEST(LatencyHistogram, CountsEveryRecordFromManyThreads) {
  LatencyHistogram histogram;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&histogram] {
      for (int i = 0; i < 50'000; ++i) histogram.Record(i);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(histogram.Snapshot().count(), 200'000u);
}

}  // namespace
}  // namespace cmdq::app
