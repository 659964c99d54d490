#include "cache/lru_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace cmdq::cache {
namespace {

// Test sizes shrink under sanitizers: CMDQ_TEST_SCALE=0.05 runs 5% of the work.
size_t Scaled(size_t n, size_t min = 1000) {
  const char* s = std::getenv("CMDQ_TEST_SCALE");
  if (s == nullptr) return n;
  return std::max(min, static_cast<size_t>(static_cast<double>(n) * std::atof(s)));
}

Record MakeRecord(uint64_t id, std::string result = "r") {
  Record r;
  r.command.id = CommandId(id);
  r.command.payload = "payload-" + std::to_string(id);
  r.state = State::kSucceeded;
  r.result = std::move(result);
  return r;
}

bool Has(Cache& cache, uint64_t id) { return cache.Get(CommandId(id)).has_value(); }

TEST(LruCache, ReturnsWhatWasPut) {
  auto cache = NewLruCache(10);
  EXPECT_FALSE(cache->Get(CommandId(1)).has_value());
  cache->Put(MakeRecord(1, "one"));
  auto got = cache->Get(CommandId(1));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->result, "one");
  EXPECT_EQ(got->command.payload, "payload-1");
  EXPECT_EQ(got->state, State::kSucceeded);
}

TEST(LruCache, EvictsTheLeastRecentlyUsed) {
  LruCache cache(3);
  for (uint64_t id = 1; id <= 3; ++id) cache.Put(MakeRecord(id));
  cache.Put(MakeRecord(4));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(Has(cache, 1));
  cache.Put(MakeRecord(5));
  EXPECT_FALSE(Has(cache, 2));
  EXPECT_TRUE(Has(cache, 3));
  EXPECT_TRUE(Has(cache, 4));
  EXPECT_TRUE(Has(cache, 5));
}

TEST(LruCache, GetPromotes) {
  LruCache cache(3);
  for (uint64_t id = 1; id <= 3; ++id) cache.Put(MakeRecord(id));
  EXPECT_TRUE(Has(cache, 1));  // 1 is now the most recent; 2 the least
  cache.Put(MakeRecord(4));
  EXPECT_TRUE(Has(cache, 1));
  EXPECT_FALSE(Has(cache, 2));
  EXPECT_TRUE(Has(cache, 3));
}

TEST(LruCache, PutReplacesAndPromotes) {
  LruCache cache(3);
  for (uint64_t id = 1; id <= 3; ++id) cache.Put(MakeRecord(id));
  cache.Put(MakeRecord(1, "new"));
  EXPECT_EQ(cache.size(), 3u);
  cache.Put(MakeRecord(4));
  EXPECT_FALSE(Has(cache, 2));
  EXPECT_EQ(cache.Get(CommandId(1))->result, "new");
}

TEST(LruCache, Erases) {
  LruCache cache(3);
  cache.Put(MakeRecord(1));
  cache.Put(MakeRecord(2));
  cache.Erase(CommandId(1));
  cache.Erase(CommandId(99));  // absent: nothing happens
  EXPECT_FALSE(Has(cache, 1));
  EXPECT_TRUE(Has(cache, 2));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(LruCache, StoresNothingAtCapacityZero) {
  LruCache cache(0);
  cache.Put(MakeRecord(1));
  EXPECT_FALSE(Has(cache, 1));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(LruCache, ShardedCacheHoldsAtMostItsCapacity) {
  LruCache cache(10'000);
  for (uint64_t id = 1; id <= 50'000; ++id) cache.Put(MakeRecord(id));
  EXPECT_EQ(cache.size(), 10'000u);
  // The newest are kept by every shard.
  for (uint64_t id = 49'001; id <= 50'000; ++id) EXPECT_TRUE(Has(cache, id)) << id;
}

TEST(LruCache, SurvivesConcurrentHammering) {
  LruCache cache(1000);
  const size_t ops = Scaled(200'000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      for (size_t i = 0; i < ops; ++i) {
        const uint64_t id = rng() % 3000 + 1;
        switch (rng() % 4) {
          case 0:
            cache.Erase(CommandId(id));
            break;
          case 1: {
            auto got = cache.Get(CommandId(id));
            if (got) {
              ASSERT_EQ(got->command.id, CommandId(id));
            }
            break;
          }
          default:
            cache.Put(MakeRecord(id));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(cache.size(), 1000u);
}

}  // namespace
}  // namespace cmdq::cache
