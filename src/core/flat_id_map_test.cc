#include "core/flat_id_map.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <vector>

namespace cmdq {
namespace {

TEST(FlatIdMap, InsertsFindsAndErases) {
  FlatIdMap<int> map;
  EXPECT_EQ(map.Find(7), nullptr);
  EXPECT_TRUE(map.Insert(7, 70));
  EXPECT_FALSE(map.Insert(7, 71));  // present: unchanged
  int* value = map.Find(7);
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(*value, 70);
  *value = 72;
  EXPECT_EQ(map.Find(7), value);
  EXPECT_EQ(*value, 72);
  EXPECT_EQ(map.size(), 1u);
  EXPECT_TRUE(map.Erase(7));
  EXPECT_FALSE(map.Erase(7));
  EXPECT_EQ(map.Find(7), nullptr);
  EXPECT_EQ(map.size(), 0u);
}

TEST(FlatIdMap, RefusesIdZeroWhichMarksEmptySlots) {
  FlatIdMap<int> map;
  EXPECT_FALSE(map.Insert(0, 1));
  EXPECT_EQ(map.Find(0), nullptr);
  EXPECT_FALSE(map.Erase(0));
  EXPECT_EQ(map.size(), 0u);
}

TEST(FlatIdMap, GrowsAndKeepsEveryItem) {
  FlatIdMap<uint64_t> map;
  const size_t initial = map.capacity();
  for (uint64_t id = 1; id <= 10'000; ++id) ASSERT_TRUE(map.Insert(id, id * 3));
  EXPECT_GT(map.capacity(), initial);
  EXPECT_LE(map.size() * 8, map.capacity() * 5);
  for (uint64_t id = 1; id <= 10'000; ++id) {
    const uint64_t* value = map.Find(id);
    ASSERT_NE(value, nullptr) << id;
    EXPECT_EQ(*value, id * 3);
  }
  EXPECT_EQ(map.Find(10'001), nullptr);
  size_t seen = 0;
  map.ForEach([&](uint64_t id, uint64_t value) {
    EXPECT_EQ(value, id * 3);
    ++seen;
  });
  EXPECT_EQ(seen, 10'000u);
}

// Ids that share a home slot form one probe run; erasing from its middle must leave the
// items after it reachable (backward shift, no tombstones).
TEST(FlatIdMap, ErasingInsideAProbeRunKeepsTheRestReachable) {
  FlatIdMap<int> map(4);  // 16 slots: with 8 ids many runs collide
  std::vector<uint64_t> ids;
  for (uint64_t id = 1; ids.size() < 8; id += 977) ids.push_back(id);
  for (size_t i = 0; i < ids.size(); ++i) ASSERT_TRUE(map.Insert(ids[i], static_cast<int>(i)));
  for (size_t erased = 0; erased < ids.size(); ++erased) {
    ASSERT_TRUE(map.Erase(ids[erased]));
    for (size_t i = 0; i < ids.size(); ++i) {
      const int* v = map.Find(ids[i]);
      if (i <= erased) {
        EXPECT_EQ(v, nullptr) << i;
      } else {
        ASSERT_NE(v, nullptr) << i;
        EXPECT_EQ(*v, static_cast<int>(i));
      }
    }
  }
}

// Insert and erase at random, as retention does, against std::unordered_map; the table
// must not fill up with the churn (no tombstones) and must agree on every id.
TEST(FlatIdMap, AgreesWithUnorderedMapUnderChurn) {
  FlatIdMap<uint64_t> map;
  std::unordered_map<uint64_t, uint64_t> model;
  std::mt19937_64 rng(11);
  for (int step = 0; step < 200'000; ++step) {
    const uint64_t id = rng() % 3000 + 1;
    if (rng() % 2) {
      EXPECT_EQ(map.Insert(id, step), model.emplace(id, step).second);
    } else {
      EXPECT_EQ(map.Erase(id), model.erase(id) == 1);
    }
  }
  EXPECT_EQ(map.size(), model.size());
  EXPECT_LE(map.capacity(), 8192u);
  for (uint64_t id = 1; id <= 3000; ++id) {
    const uint64_t* v = map.Find(id);
    auto it = model.find(id);
    ASSERT_EQ(v != nullptr, it != model.end()) << id;
    if (v != nullptr) {
      EXPECT_EQ(*v, it->second);
    }
  }
}

}  // namespace
}  // namespace cmdq
