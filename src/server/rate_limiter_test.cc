#include "server/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace cmdq::server {
namespace {

constexpr int64_t kSecond = 1'000'000;

TEST(RateLimiter, OffByDefault) {
  ManualClock clock;
  RateLimiter limiter({}, &clock);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(limiter.Acquire("k").allowed);
  EXPECT_EQ(limiter.KeyCount(), 0u);
}

TEST(RateLimiter, BurstThenRefusedWithRetryAfter) {
  ManualClock clock;
  RateLimiter limiter({.per_second = 10, .burst = 5}, &clock);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Acquire("k").allowed) << i;
  RateDecision d = limiter.Acquire("k");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, 100'000);  // one token at 10/s
  EXPECT_EQ(d.RetryAfterSeconds(), 1);
  clock.Advance(d.retry_after_us);
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  EXPECT_FALSE(limiter.Acquire("k").allowed);
}

TEST(RateLimiter, KeysAreIndependent) {
  ManualClock clock;
  RateLimiter limiter({.per_second = 1, .burst = 1}, &clock);
  EXPECT_TRUE(limiter.Acquire("a").allowed);
  EXPECT_FALSE(limiter.Acquire("a").allowed);
  EXPECT_TRUE(limiter.Acquire("b").allowed);
}

TEST(RateLimiter, SustainedRateHolds) {
  ManualClock clock;
  RateLimiter limiter({.per_second = 100, .burst = 10}, &clock);
  int allowed = 0;
  for (int ms = 0; ms < 10'000; ++ms) {  // 10 s, 5 tries a millisecond
    for (int i = 0; i < 5; ++i) allowed += limiter.Acquire("k").allowed ? 1 : 0;
    clock.Advance(1'000);
  }
  EXPECT_GE(allowed, 1000);
  EXPECT_LE(allowed, 1010);  // 100/s for 10 s plus the burst
}

TEST(RateLimiter, ABatchLargerThanTheBurstPassesOnAFullBucketAndLeavesDebt) {
  ManualClock clock;
  RateLimiter limiter({.per_second = 10, .burst = 5}, &clock);
  EXPECT_TRUE(limiter.Acquire("k", 25).allowed);
  RateDecision d = limiter.Acquire("k", 1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, 2 * kSecond + 100'000);  // from -20 up to 1 at 10/s
  clock.Advance(d.retry_after_us);
  EXPECT_TRUE(limiter.Acquire("k", 1).allowed);
}

TEST(RateLimiter, RetryAfterRoundsUp) {
  EXPECT_EQ((RateDecision{false, 1}).RetryAfterSeconds(), 1);
  EXPECT_EQ((RateDecision{false, kSecond}).RetryAfterSeconds(), 1);
  EXPECT_EQ((RateDecision{false, kSecond + 1}).RetryAfterSeconds(), 2);
}

TEST(RateLimiter, RefusalIsResourceExhaustedWithoutAField) {
  Status s = RateDecision{false, 2 * kSecond}.ToStatus();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(s.field().empty());  // so HttpStatus makes it 429, not 413
  EXPECT_NE(s.message().find("retry in 2 s"), std::string::npos) << s.message();
  EXPECT_TRUE(RateDecision{}.ToStatus().ok());
}

TEST(RateLimiter, ForgetsKeysWhoseBucketRefilled) {
  ManualClock clock;
  RateLimiter limiter({.per_second = 10, .burst = 10}, &clock);
  for (int i = 0; i < 1000; ++i) limiter.Acquire("key" + std::to_string(i));
  EXPECT_EQ(limiter.KeyCount(), 1000u);
  clock.Advance(2 * kSecond);  // every bucket is full again
  for (int i = 0; i < 1000; ++i) limiter.Acquire("new" + std::to_string(i));
  EXPECT_LE(limiter.KeyCount(), 1000u);
  EXPECT_GE(limiter.KeyCount(), 900u);  // the new keys, the old ones gone
}

TEST(RateLimiter, MemoryIsBoundedWhenEveryKeyIsBusy) {
  ManualClock clock;
  RateLimiter limiter({.per_second = 1, .burst = 1, .max_keys = 1'000}, &clock);
  for (int i = 0; i < 20'000; ++i) limiter.Acquire("key" + std::to_string(i));
  EXPECT_LE(limiter.KeyCount(), 1'000u);
  // A key just refused is still refused: busy keys are not the first forgotten.
  for (int i = 0; i < 3; ++i) limiter.Acquire("hot");
  EXPECT_FALSE(limiter.Acquire("hot").allowed);
}

// Several threads share one key and a clock that does not move: exactly `burst` pass,
// whatever the interleaving. Each also hammers keys of its own.
TEST(RateLimiterConcurrency, SharedKeyGivesExactlyTheBurst) {
  ManualClock clock;
  RateLimiter limiter({.per_second = 1, .burst = 1000, .max_keys = 2'000}, &clock);
  constexpr int kThreads = 4;
  constexpr int kTries = 5'000;
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTries; ++i) {
        if (limiter.Acquire("shared").allowed) allowed.fetch_add(1);
        limiter.Acquire("own" + std::to_string(t) + "_" + std::to_string(i % 700));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 1000);
  EXPECT_LE(limiter.KeyCount(), 2'000u);
}

// With time moving under them, the threads together never get more than the bucket
// allows: burst + rate * elapsed.
TEST(RateLimiterConcurrency, RateHoldsWhileTheClockMoves) {
  ManualClock clock;
  RateLimiter limiter({.per_second = 1000, .burst = 50}, &clock);
  std::atomic<bool> stop{false};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        if (limiter.Acquire("k").allowed) allowed.fetch_add(1);
      }
    });
  }
  // The burst first, before the clock moves: on a loaded machine the threads may not
  // have run at all by the time the main thread's steps are over.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (allowed.load() < 50 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  const int burst = allowed.load();
  constexpr int kSteps = 200;
  for (int i = 0; burst >= 50 && i < kSteps; ++i) {
    clock.Advance(1'000);  // 1 ms: one more token
    std::this_thread::yield();
  }
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_GE(burst, 50) << "the burst was not granted";
  EXPECT_LE(allowed.load(), 50 + kSteps);
}

}  // namespace
}  // namespace cmdq::server
