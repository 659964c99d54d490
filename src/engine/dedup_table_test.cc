// The idempotency-key table: the window, releases, and the bound on its memory.
#include "engine/dedup_table.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace cmdq::engine {
namespace {

constexpr int64_t kWindowUs = 1'000'000;

CommandId Id(uint64_t n) { return CommandId(n); }

TEST(DedupTable, ARepeatWithinTheWindowGetsTheFirstId) {
  DedupTable table(kWindowUs, 1000);
  EXPECT_FALSE(table.ClaimOrGet("k", Id(1), 0).has_value());
  EXPECT_EQ(table.ClaimOrGet("k", Id(2), kWindowUs - 1), Id(1));
  EXPECT_FALSE(table.ClaimOrGet("other", Id(3), 10).has_value());
}

TEST(DedupTable, AnExpiredKeyMayBeClaimedAgain) {
  DedupTable table(kWindowUs, 1000);
  ASSERT_FALSE(table.ClaimOrGet("k", Id(1), 0).has_value());
  EXPECT_FALSE(table.ClaimOrGet("k", Id(2), kWindowUs).has_value());
  EXPECT_EQ(table.ClaimOrGet("k", Id(3), kWindowUs + 5), Id(2));
}

TEST(DedupTable, ReleaseDropsOnlyTheClaimOfItsOwnId) {
  DedupTable table(kWindowUs, 1000);
  ASSERT_FALSE(table.ClaimOrGet("k", Id(1), 0).has_value());
  table.Release("k", Id(9));  // not its claim: stays
  EXPECT_EQ(table.ClaimOrGet("k", Id(2), 1), Id(1));
  table.Release("k", Id(1));
  EXPECT_FALSE(table.ClaimOrGet("k", Id(3), 2).has_value());
  // The released claim's expiry entry must not drop the new claim early.
  EXPECT_EQ(table.ClaimOrGet("k", Id(4), kWindowUs + 1), Id(3));
}

// A key on every submit must not hold a window's worth of traffic in memory: past the
// bound the oldest keys go first, and the newest are still remembered.
TEST(DedupTable, StaysWithinItsBoundAndForgetsTheOldestFirst) {
  constexpr size_t kMax = 1600;  // 100 per shard
  DedupTable table(kWindowUs, kMax);
  constexpr uint64_t kKeys = 50'000;
  for (uint64_t i = 0; i < kKeys; ++i) {
    ASSERT_FALSE(table.ClaimOrGet("key-" + std::to_string(i), Id(i + 1), 0).has_value());
    ASSERT_LE(table.size(), kMax);
  }
  EXPECT_GE(table.size(), kMax * 3 / 4);  // the bound is used, not just respected
  EXPECT_EQ(table.ClaimOrGet("key-" + std::to_string(kKeys - 1), Id(0), 0), Id(kKeys));
  EXPECT_FALSE(table.ClaimOrGet("key-0", Id(kKeys + 1), 0).has_value());
}

// Released claims (submits that failed after claiming) must not count against the bound:
// here every other claim is released, and the live ones still fill it.
TEST(DedupTable, ReleasedClaimsDoNotCountAgainstTheBound) {
  constexpr size_t kMax = 1600;
  DedupTable table(kWindowUs, kMax);
  for (uint64_t i = 0; i < 4 * kMax; ++i) {
    ASSERT_FALSE(table.ClaimOrGet("live-" + std::to_string(i), Id(2 * i + 1), i).has_value());
    ASSERT_FALSE(table.ClaimOrGet("gone-" + std::to_string(i), Id(2 * i + 2), i).has_value());
    table.Release("gone-" + std::to_string(i), Id(2 * i + 2));
  }
  EXPECT_GE(table.size(), kMax * 3 / 4);
  EXPECT_LE(table.size(), kMax);
}

TEST(DedupTable, ConcurrentClaimsOfOneKeyAgreeOnOneWinner) {
  DedupTable table(kWindowUs, 1 << 20);
  constexpr int kThreads = 8;
  constexpr int kKeys = 2000;
  std::vector<std::vector<CommandId>> seen(kThreads, std::vector<CommandId>(kKeys));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kKeys; ++k) {
        const CommandId mine = Id(static_cast<uint64_t>(k) * kThreads + t + 1);
        auto prev = table.ClaimOrGet("k" + std::to_string(k), mine, 0);
        seen[t][k] = prev ? *prev : mine;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < kKeys; ++k) {
    for (int t = 1; t < kThreads; ++t) ASSERT_EQ(seen[t][k], seen[0][k]) << "key " << k;
  }
}

}  // namespace
}  // namespace cmdq::engine
