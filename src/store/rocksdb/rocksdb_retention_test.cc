// Scan, DeleteRange, Restore and OldestUnfinished of the RocksDB store, against real
// RocksDB in a fresh directory.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "cmdq/rocksdb_store.h"
#include "store/rocksdb/store_fixture.h"
#include "store/rocksdb/test_dir.h"

namespace cmdq::rocksdb_store {
namespace {

class RocksDbRetentionTest : public testing::RocksDbStoreTest {
 protected:
  RocksDbStoreOptions Options() override {
    RocksDbStoreOptions options = RocksDbStoreTest::Options();
    options.checkpoint_every = 5;  // index buckets of 5 inserts each
    return options;
  }
  void InsertFinished(uint64_t id, std::string key = "k") {
    ASSERT_TRUE(Insert(id, std::move(key)).ok());
    ASSERT_TRUE(Move(id, State::kPending, State::kRunning, {.attempt = 1, .worker = "w1"}).ok());
    ASSERT_TRUE(Move(id, State::kRunning, State::kSucceeded,
                     {.attempt = 1, .result = "r" + std::to_string(id)})
                    .ok());
  }
  std::vector<StoredCommand> ScanAll() {
    auto all = store_->Scan(CommandId(1), CommandId(~uint64_t{0}), 1'000'000);
    EXPECT_TRUE(all.has_value()) << all.error().ToString();
    return all.value_or(std::vector<StoredCommand>{});
  }
  // Entries of the `index` column family, read from the closed store's files.
  size_t IndexEntries() {
    store_.reset();
    size_t n = 0;
    testing::WithRawStore(dir_.Sub("db"), true, [&](rocksdb::DB& raw, const auto& cfs) {
      std::unique_ptr<rocksdb::Iterator> it(raw.NewIterator(rocksdb::ReadOptions(), cfs[4]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    });
    Open();
    return n;
  }
};

TEST_F(RocksDbRetentionTest, ScanReturnsTheRangeOldestFirstWithAudit) {
  for (uint64_t id = 10; id < 20; ++id) InsertFinished(id);
  auto page = store_->Scan(CommandId(12), CommandId(17), 3);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].record.command.id, CommandId(12));
  EXPECT_EQ((*page)[2].record.command.id, CommandId(14));
  const StoredCommand& s = (*page)[0];
  EXPECT_EQ(s.record.state, State::kSucceeded);
  EXPECT_EQ(s.record.result, "r12");
  EXPECT_EQ(s.record.command.payload, "payload-12");
  ASSERT_EQ(s.audit.size(), 3u);
  EXPECT_EQ(s.audit[1].worker, "w1");
  EXPECT_EQ(s.audit[2].to, State::kSucceeded);
  EXPECT_EQ(s.audit[2].id, CommandId(12));
  auto rest = store_->Scan(CommandId(15), CommandId(17), 10);
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->size(), 2u);  // `to` is excluded
  EXPECT_TRUE(store_->Scan(CommandId(17), CommandId(17), 10)->empty());
}

TEST_F(RocksDbRetentionTest, DeleteRangeRemovesRecordsAndIndexEntries) {
  for (uint64_t id = 1; id <= 20; ++id) InsertFinished(id, "user-" + std::to_string(id % 2));
  // Checkpoints at the inserts of 5, 10, 15 and 20 indexed 1-4, 5-9, 10-14 and 15-19: a
  // bucket for each key and one for the type, each time. 20 waits for the next one.
  EXPECT_EQ(IndexEntries(), 12u);
  ASSERT_TRUE(store_->DeleteRange(CommandId(5), CommandId(15)).ok());
  EXPECT_EQ(store_->Get(CommandId(5)).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(CommandId(14)).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Audit(CommandId(10)).error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Get(CommandId(4)).has_value());
  EXPECT_TRUE(store_->Get(CommandId(15)).has_value());
  EXPECT_EQ(ScanAll().size(), 10u);
  EXPECT_EQ(IndexEntries(), 6u);  // those of 5-9 and 10-14; also reopens: it is durable
  EXPECT_EQ(ScanAll().size(), 10u);
  auto page = store_->List({.key = "user-0", .limit = 100});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->records.size(), 5u);  // 2, 4, 16, 18, 20
}

TEST_F(RocksDbRetentionTest, DeleteRangeRefusesARangeWithAnUnfinishedRecord) {
  for (uint64_t id = 1; id <= 10; ++id) InsertFinished(id);
  ASSERT_TRUE(Insert(11).ok());  // pending
  for (uint64_t id = 12; id <= 15; ++id) InsertFinished(id);
  auto oldest = store_->OldestUnfinished();
  ASSERT_TRUE(oldest.has_value());
  EXPECT_EQ(*oldest, CommandId(11));
  Status s = store_->DeleteRange(CommandId(1), CommandId(16));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(ScanAll().size(), 15u);  // nothing went
  EXPECT_TRUE(store_->DeleteRange(CommandId(1), CommandId(11)).ok());
  EXPECT_EQ(ScanAll().size(), 5u);
  EXPECT_TRUE(store_->Get(CommandId(11)).has_value());
}

// Regression: range tombstones in a memtable whose point inserts use insert hints broke
// RocksDB 7.8's skip list (an assertion in FindSpliceForLevel); deletes and inserts of
// neighbouring ids interleave here as they do under retention.
TEST_F(RocksDbRetentionTest, InsertsAndDeletesOfNeighbouringIdsInterleave) {
  uint64_t next = 1;
  for (int round = 0; round < 20; ++round) {
    const uint64_t first = next;
    for (int i = 0; i < 20; ++i) InsertFinished(next++);
    ASSERT_TRUE(Insert(next++).ok());  // stays pending: the range stops before it
    ASSERT_TRUE(store_->DeleteRange(CommandId(first), CommandId(first + 20)).ok());
  }
  EXPECT_EQ(ScanAll().size(), 20u);
  Open();
  EXPECT_EQ(ScanAll().size(), 20u);
  EXPECT_EQ(store_->Unfinished()->size(), 20u);
}

TEST_F(RocksDbRetentionTest, RestorePutsRecordsBackAsTheyWere) {
  for (uint64_t id = 1; id <= 5; ++id) InsertFinished(id, "user-" + std::to_string(id));
  std::vector<StoredCommand> saved = ScanAll();
  ASSERT_TRUE(store_->DeleteRange(CommandId(1), CommandId(6)).ok());
  ASSERT_TRUE(ScanAll().empty());
  ASSERT_TRUE(store_->Restore(saved).ok());
  Open();  // durable
  std::vector<StoredCommand> back = ScanAll();
  ASSERT_EQ(back.size(), saved.size());
  for (size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].record.command.payload, saved[i].record.command.payload);
    EXPECT_EQ(back[i].record.command.headers, saved[i].record.command.headers);
    EXPECT_EQ(back[i].record.state, saved[i].record.state);
    EXPECT_EQ(back[i].record.result, saved[i].record.result);
    EXPECT_EQ(back[i].record.updated_at_us, saved[i].record.updated_at_us);
    ASSERT_EQ(back[i].audit.size(), saved[i].audit.size());
    EXPECT_EQ(back[i].audit.back().to, saved[i].audit.back().to);
  }
  auto page = store_->List({.key = "user-3", .limit = 10});
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->records.size(), 1u);  // the index entries came back too
}

TEST_F(RocksDbRetentionTest, RestoreRefusesDuplicatesAllOrNothing) {
  InsertFinished(1);
  InsertFinished(2);
  std::vector<StoredCommand> saved = ScanAll();
  ASSERT_TRUE(store_->DeleteRange(CommandId(2), CommandId(3)).ok());
  // 2 is free again, 1 is not: nothing is written.
  EXPECT_EQ(store_->Restore(saved).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Get(CommandId(2)).error().code(), StatusCode::kNotFound);
  std::vector<StoredCommand> twice = {saved[1], saved[1]};
  EXPECT_EQ(store_->Restore(twice).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(store_->Restore(std::span(saved).subspan(1)).ok());
  EXPECT_TRUE(store_->Get(CommandId(2)).has_value());
}

TEST_F(RocksDbRetentionTest, RestoredUnfinishedRecordIsLiveAgain) {
  ASSERT_TRUE(Insert(7).ok());
  std::vector<StoredCommand> saved = ScanAll();
  ASSERT_TRUE(Move(7, State::kPending, State::kCancelled).ok());
  ASSERT_TRUE(store_->DeleteRange(CommandId(7), CommandId(8)).ok());
  ASSERT_TRUE(store_->Restore(saved).ok());
  EXPECT_EQ(*store_->OldestUnfinished(), CommandId(7));
  EXPECT_EQ(store_->Unfinished()->size(), 1u);
  Open();
  EXPECT_EQ(store_->Unfinished()->size(), 1u);
}

}  // namespace
}  // namespace cmdq::rocksdb_store
