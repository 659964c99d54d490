#include "engine/backoff.h"

#include <gtest/gtest.h>

namespace cmdq::engine {
namespace {

TEST(Backoff, GrowsExponentiallyUpToTheCap) {
  TypeOptions o{.backoff_initial = std::chrono::milliseconds(100),
                .backoff_max = std::chrono::milliseconds(1000),
                .backoff_multiplier = 2.0,
                .jitter = 0.0};
  EXPECT_EQ(BackoffMicros(o, 1, 0.5), 100'000);
  EXPECT_EQ(BackoffMicros(o, 2, 0.5), 200'000);
  EXPECT_EQ(BackoffMicros(o, 3, 0.5), 400'000);
  EXPECT_EQ(BackoffMicros(o, 5, 0.5), 1'000'000);
  EXPECT_EQ(BackoffMicros(o, 60, 0.5), 1'000'000);
}

TEST(Backoff, JitterStaysWithinBounds) {
  TypeOptions o{.backoff_initial = std::chrono::milliseconds(100),
                .backoff_max = std::chrono::milliseconds(10'000),
                .backoff_multiplier = 3.0,
                .jitter = 0.25};
  for (uint32_t attempt = 1; attempt <= 6; ++attempt) {
    const int64_t base = BackoffMicros(
        TypeOptions{o.max_attempts, o.backoff_initial, o.backoff_max, o.backoff_multiplier, 0.0},
        attempt, 0.0);
    for (int i = 0; i < 1000; ++i) {
      const int64_t d = BackoffMicros(o, attempt, UnitRandom());
      EXPECT_LE(d, base);
      EXPECT_GE(d, static_cast<int64_t>(static_cast<double>(base) * 0.75) - 1);
    }
  }
}

TEST(Backoff, UnitRandomIsInRange) {
  for (int i = 0; i < 10'000; ++i) {
    const double u = UnitRandom();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

}  // namespace
}  // namespace cmdq::engine
