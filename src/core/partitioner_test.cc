#include "core/partitioner.h"

#include <gtest/gtest.h>

#include <string>

namespace cmdq {
namespace {

TEST(Partitioner, JumpHashMatchesPublishedAlgorithm) {
  // Computed with an independent implementation of Lamping & Veach's algorithm.
  struct Case {
    uint64_t key;
    uint32_t buckets;
    uint32_t want;
  };
  const Case cases[] = {
      {0x0ULL, 1u, 0u},
      {0x0ULL, 10u, 0u},
      {0x1ULL, 10u, 6u},
      {0xdeadbeefULL, 100u, 87u},
      {0xffffffffffffffffULL, 1000u, 313u},
      {0x75bcd15ULL, 64u, 34u},
      {0x2aULL, 11u, 2u},
      {0x123456789abcdefULL, 65536u, 33301u},
      {0x7ULL, 2u, 0u},
      {0x8000000000000000ULL, 3u, 1u},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(JumpConsistentHash(c.key, c.buckets), c.want) << c.key << " " << c.buckets;
  }
}

TEST(Partitioner, JumpHashStaysInRange) {
  for (uint64_t key = 0; key < 1000; ++key) {
    EXPECT_EQ(JumpConsistentHash(key * 0x9e3779b97f4a7c15ULL, 1), 0u);
    EXPECT_LT(JumpConsistentHash(key * 0x9e3779b97f4a7c15ULL, 7), 7u);
  }
  EXPECT_EQ(JumpConsistentHash(12345, 0), 0u);  // 0 buckets is treated as 1
}

TEST(Partitioner, KeyHashIsXxh3) {
  EXPECT_EQ(KeyHash(""), 0x2d06800538d394c2ULL);
  EXPECT_EQ(KeyHash("a"), 0xe6c632b61e964e1fULL);
  EXPECT_EQ(KeyHash("user-42"), 0x50fe4b21cf7b09cdULL);
}

TEST(Partitioner, PartitionOfIsStable) {
  EXPECT_EQ(PartitionOf("user-42", 64), 25u);
  EXPECT_EQ(PartitionOf("", 64), 52u);
  EXPECT_EQ(PartitionOf("a", 1024), 350u);
  for (int i = 0; i < 100; ++i) {
    std::string key = "key-" + std::to_string(i);
    EXPECT_EQ(PartitionOf(key, 16), PartitionOf(key, 16));
  }
}

TEST(Partitioner, GrowingMovesFewKeysAndOnlyToTheNewPartition) {
  constexpr int kKeys = 100'000;
  int moved = 0;
  for (int i = 0; i < kKeys; ++i) {
    std::string key = "user-" + std::to_string(i);
    uint32_t before = PartitionOf(key, 10);
    uint32_t after = PartitionOf(key, 11);
    if (before != after) {
      ++moved;
      EXPECT_EQ(after, 10u) << key;
    }
  }
  double fraction = static_cast<double>(moved) / kKeys;
  EXPECT_GT(fraction, 0.07);
  EXPECT_LT(fraction, 0.11);
}

}  // namespace
}  // namespace cmdq
