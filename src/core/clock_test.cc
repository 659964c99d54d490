#include "cmdq/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

namespace cmdq {
namespace {

TEST(Clock, SystemClockReadsWallTime) {
  int64_t expected = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  int64_t now = SystemClock()->NowMicros();
  EXPECT_LT(std::llabs(now - expected), 5'000'000);
  EXPECT_EQ(SystemClock(), SystemClock());
}

TEST(Clock, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(1'000);
  EXPECT_EQ(clock.NowMicros(), 1'000);
  clock.Advance(500);
  EXPECT_EQ(clock.NowMicros(), 1'500);
  clock.Set(42);
  EXPECT_EQ(clock.NowMicros(), 42);
}

TEST(Clock, ManualClockNotifiesSubscribers) {
  ManualClock clock(0);
  int first = 0;
  int second = 0;
  clock.Subscribe([&] { ++first; });
  clock.Subscribe([&] { ++second; });
  clock.Advance(10);
  clock.Set(100);
  EXPECT_EQ(first, 2);
  EXPECT_EQ(second, 2);
}

TEST(Clock, ManualClockNotifiesOutsideItsLock) {
  // A subscriber that reads the time (as a woken timer thread would) must not deadlock.
  ManualClock clock(0);
  int64_t seen = -1;
  clock.Subscribe([&] { seen = clock.NowMicros(); });
  clock.Advance(7);
  EXPECT_EQ(seen, 7);
}

}  // namespace
}  // namespace cmdq
