#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "store/memory_store.h"
#include "store/store_test_util.h"

namespace cmdq::store {
namespace {

using testing::Finish;
using testing::InsertOne;
using testing::MoveOne;

// running -> failed -> dead
void Kill(Store& store, uint64_t id) {
  ASSERT_TRUE(MoveOne(store, id, State::kPending, State::kRunning).ok());
  ASSERT_TRUE(MoveOne(store, id, State::kRunning, State::kFailed).ok());
  ASSERT_TRUE(MoveOne(store, id, State::kFailed, State::kDead).ok());
}

bool Exists(const Store& store, uint64_t id) { return store.Get(CommandId(id)).has_value(); }

TEST(MemoryStoreRetention, ForgetsTheOldestTerminalOnly) {
  auto store = NewMemoryStore({.max_terminal_records = 10});
  for (uint64_t id = 1; id <= 30; ++id) ASSERT_TRUE(InsertOne(*store, id).ok());
  // They become terminal in an order unlike their ids: that order decides.
  std::vector<uint64_t> finish_order(15);
  for (size_t i = 0; i < finish_order.size(); ++i) finish_order[i] = 2 * i + 1;
  std::shuffle(finish_order.begin(), finish_order.end(), std::mt19937(5));
  for (uint64_t id : finish_order) Finish(*store, id);

  for (size_t i = 0; i < finish_order.size(); ++i) {
    EXPECT_EQ(Exists(*store, finish_order[i]), i >= 5) << finish_order[i];
  }
  for (uint64_t id = 2; id <= 30; id += 2) EXPECT_TRUE(Exists(*store, id)) << id;
  EXPECT_EQ(store->Unfinished()->size(), 15u);
}

TEST(MemoryStoreRetention, NeverForgetsANonTerminalRecord) {
  auto store = NewMemoryStore({.max_terminal_records = 1});
  for (uint64_t id = 1; id <= 100; ++id) ASSERT_TRUE(InsertOne(*store, id).ok());
  for (uint64_t id = 1; id <= 50; ++id) {
    ASSERT_TRUE(MoveOne(*store, id, State::kPending, State::kRunning).ok());
  }
  for (uint64_t id = 51; id <= 60; ++id) Finish(*store, id);
  EXPECT_EQ(store->Unfinished()->size(), 90u);
  for (uint64_t id = 51; id <= 60; ++id) EXPECT_EQ(Exists(*store, id), id == 60);
}

TEST(MemoryStoreRetention, KeepsAllWhenTheLimitIsZero) {
  auto store = NewMemoryStore({.max_terminal_records = 0});
  for (uint64_t id = 1; id <= 3000; ++id) {
    ASSERT_TRUE(InsertOne(*store, id).ok());
    Finish(*store, id);
  }
  for (uint64_t id = 1; id <= 3000; ++id) ASSERT_TRUE(Exists(*store, id));
}

TEST(MemoryStoreRetention, UndoKeepsThePlaceOfFirstBecomingTerminal) {
  auto store = NewMemoryStore({.max_terminal_records = 2});
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_TRUE(InsertOne(*store, id).ok());
  Finish(*store, 1);
  Finish(*store, 2);
  ASSERT_TRUE(MoveOne(*store, 1, State::kSucceeded, State::kUndone).ok());
  Finish(*store, 3);
  EXPECT_FALSE(Exists(*store, 1));
  EXPECT_TRUE(Exists(*store, 2));
  EXPECT_TRUE(Exists(*store, 3));
}

TEST(MemoryStoreRetention, RedriveTakesARecordOutOfRetention) {
  auto store = NewMemoryStore({.max_terminal_records = 2});
  for (uint64_t id = 1; id <= 5; ++id) ASSERT_TRUE(InsertOne(*store, id).ok());
  Kill(*store, 1);
  Kill(*store, 2);
  Kill(*store, 3);  // forgets 1
  EXPECT_FALSE(Exists(*store, 1));
  ASSERT_TRUE(MoveOne(*store, 2, State::kDead, State::kPending).ok());  // re-drive
  Finish(*store, 4);
  EXPECT_TRUE(Exists(*store, 2));  // its stale queue item is skipped
  EXPECT_TRUE(Exists(*store, 3));
  Finish(*store, 5);  // forgets 3, the oldest still terminal
  EXPECT_TRUE(Exists(*store, 2));
  EXPECT_FALSE(Exists(*store, 3));
  EXPECT_EQ(store->Get(CommandId(2))->state, State::kPending);
  // Terminal again: it queues anew, behind 4 and 5.
  Finish(*store, 2);
  EXPECT_FALSE(Exists(*store, 4));
  EXPECT_TRUE(Exists(*store, 5));
  EXPECT_TRUE(Exists(*store, 2));
}

TEST(MemoryStoreRetention, ForgottenRecordsLeaveTheKeyIndex) {
  // Enough forgets to compact the key index more than once.
  auto store = NewMemoryStore({.max_terminal_records = 100});
  for (uint64_t id = 1; id <= 12'000; ++id) {
    ASSERT_TRUE(InsertOne(*store, id, id % 2 ? "odd" : "even").ok());
    Finish(*store, id);
  }
  ASSERT_TRUE(InsertOne(*store, 20'000, "odd").ok());
  auto page = store->List({.key = "odd", .limit = 1000});
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->records.size(), 51u);
  EXPECT_EQ(page->records.front().command.id, CommandId(20'000));
  EXPECT_EQ(page->records[1].command.id, CommandId(11'999));
  EXPECT_EQ(page->records.back().command.id, CommandId(11'901));
}

TEST(MemoryStoreRetention, BoundsALargeLimitPerShard) {
  constexpr size_t kMax = 20'000;
  MemoryStore store({.max_terminal_records = kMax});
  EXPECT_GT(store.shard_count(), 1u);
  constexpr uint64_t kCount = 60'000;
  for (uint64_t id = 1; id <= kCount; ++id) {
    ASSERT_TRUE(InsertOne(store, id).ok());
    Finish(store, id);
  }
  size_t kept = 0;
  for (uint64_t id = 1; id <= kCount; ++id) kept += Exists(store, id);
  EXPECT_LE(kept, kMax + store.shard_count());
  EXPECT_GE(kept, kMax * 9 / 10);
  // The newest are always kept: each shard forgets its oldest first.
  for (uint64_t id = kCount - 1000; id <= kCount; ++id) EXPECT_TRUE(Exists(store, id)) << id;
}

}  // namespace
}  // namespace cmdq::store
