// The claim map against a std::map under random claims and drops, with digests chosen to
// collide so that probe runs are long, wrap around the array's end, and get shifted back.
#include "engine/claim_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <utility>

namespace cmdq::engine {
namespace {

using Reference = std::map<std::pair<uint64_t, uint64_t>, CommandId>;

KeyDigest Digest(uint64_t low, uint64_t high) { return KeyDigest{low, high}; }

// Low halves at both ends of the array (a home is low & mask): the runs of those at the
// end wrap around to its start, whatever the capacity.
uint64_t LowHalf(uint64_t n) { return n % 2 == 0 ? n / 2 : ~uint64_t{0} - n / 2; }

void ExpectSame(const ClaimMap& map, const Reference& ref, uint64_t lows, uint64_t highs) {
  ASSERT_EQ(map.size(), ref.size());
  for (uint64_t n = 0; n < lows; ++n) {
    const uint64_t low = LowHalf(n);
    for (uint64_t high = 1; high <= highs; ++high) {
      const CommandId* found = map.Find(Digest(low, high));
      auto it = ref.find({low, high});
      if (it == ref.end()) {
        ASSERT_EQ(found, nullptr) << low << "/" << high;
      } else {
        ASSERT_NE(found, nullptr) << low << "/" << high;
        ASSERT_EQ(*found, it->second) << low << "/" << high;
      }
    }
  }
}

TEST(ClaimMap, AClaimIsFoundAndASecondClaimGetsTheFirst) {
  ClaimMap map;
  EXPECT_EQ(map.InsertOrFind(Digest(7, 1), CommandId(10)), nullptr);
  const CommandId* again = map.InsertOrFind(Digest(7, 1), CommandId(11));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(*again, CommandId(10));
  // Same low half, other high half: another key.
  EXPECT_EQ(map.InsertOrFind(Digest(7, 2), CommandId(12)), nullptr);
  EXPECT_EQ(map.size(), 2u);
}

TEST(ClaimMap, EraseIfDropsOnlyTheClaimOfItsId) {
  ClaimMap map;
  ASSERT_EQ(map.InsertOrFind(Digest(3, 3), CommandId(5)), nullptr);
  EXPECT_FALSE(map.EraseIf(Digest(3, 3), CommandId(6)));
  EXPECT_FALSE(map.EraseIf(Digest(4, 3), CommandId(5)));
  ASSERT_NE(map.Find(Digest(3, 3)), nullptr);
  EXPECT_TRUE(map.EraseIf(Digest(3, 3), CommandId(5)));
  EXPECT_EQ(map.Find(Digest(3, 3)), nullptr);
  EXPECT_EQ(map.size(), 0u);
}

// Few distinct low halves (each a home slot) and many high halves: every home holds a long
// run, runs merge and wrap, and every erase shifts items back across them.
TEST(ClaimMap, MatchesAReferenceUnderRandomClaimsAndDropsThatCollide) {
  constexpr uint64_t kLows = 96;
  constexpr uint64_t kHighs = 24;
  std::mt19937_64 random(42);
  ClaimMap map;
  Reference ref;
  uint64_t next_id = 1;
  for (int step = 0; step < 60'000; ++step) {
    const uint64_t low = LowHalf(random() % kLows);
    const uint64_t high = 1 + random() % kHighs;
    const KeyDigest d = Digest(low, high);
    auto it = ref.find({low, high});
    if (random() % 3 != 0) {
      const CommandId id(next_id++);
      const CommandId* claimed = map.InsertOrFind(d, id);
      if (it == ref.end()) {
        ASSERT_EQ(claimed, nullptr);
        ref.emplace(std::pair{low, high}, id);
      } else {
        ASSERT_NE(claimed, nullptr);
        ASSERT_EQ(*claimed, it->second);
      }
    } else {
      // Half of the drops name the wrong id and must change nothing.
      const bool right = it != ref.end() && random() % 2 == 0;
      const CommandId id = right ? it->second : CommandId(next_id++);
      ASSERT_EQ(map.EraseIf(d, id), right);
      if (right) ref.erase(it);
    }
    if (step % 5000 == 0) ExpectSame(map, ref, kLows, kHighs);
  }
  ExpectSame(map, ref, kLows, kHighs);
  EXPECT_LE(map.size() * 2, map.capacity());
}

}  // namespace
}  // namespace cmdq::engine
