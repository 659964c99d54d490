// Inserts without a status entry or index entries, and the checkpoints that store them
// (docs/storage.md, "Checkpoints"): what a reopen after no checkpoint, after some, and of
// a version 1 store finds, and what List finds meanwhile.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "store/rocksdb/store_fixture.h"
#include "store/rocksdb/test_dir.h"

namespace cmdq::rocksdb_store {
namespace {

using testing::ReadMeta;
using testing::WriteMeta;

// The ids Unfinished() returns, in its order.
std::vector<uint64_t> UnfinishedIds(const Store& store) {
  auto all = store.Unfinished();
  EXPECT_TRUE(all.has_value()) << all.error().ToString();
  std::vector<uint64_t> ids;
  if (all) {
    for (const Record& r : *all) ids.push_back(r.command.id.value());
  }
  return ids;
}

std::vector<uint64_t> Descending(uint64_t from, uint64_t to) {
  std::vector<uint64_t> ids;
  for (uint64_t id = to; id >= from; --id) ids.push_back(id);
  return ids;
}

class StatusCheckpointTest : public testing::RocksDbStoreTest {
 protected:
  RocksDbStoreOptions Options() override {
    RocksDbStoreOptions o = RocksDbStoreTest::Options();
    o.checkpoint_every = checkpoint_every_;
    return o;
  }
  uint64_t Watermark() {
    store_.reset();
    auto w = ReadMeta(dir_.Sub("db"), "status_complete_below");
    EXPECT_TRUE(w.has_value());
    Open();
    return w ? std::stoull(*w) : 0;
  }

  size_t checkpoint_every_ = 1'000'000;  // none unless a test lowers it
};

TEST_F(StatusCheckpointTest, AnInsertWithoutACheckpointIsFoundAgainAfterReopen) {
  for (uint64_t id = 1; id <= 5; ++id) ASSERT_TRUE(Insert(id, "user-" + std::to_string(id)).ok());
  StoreBatch scheduled;
  auto later = testing::MakeCommand(6);
  const_cast<Command&>(*later).not_before_us = 1'000;
  scheduled.Insert(later, State::kScheduled, 6);
  ASSERT_TRUE(store_->Write(scheduled, {.sync = true}).ok());
  Finish(2);
  EXPECT_EQ(Watermark(), 0u);  // no checkpoint: the reopen read every command back

  EXPECT_EQ(UnfinishedIds(*store_), (std::vector<uint64_t>{1, 3, 4, 5, 6}));
  auto rec = store_->Get(CommandId(6));
  ASSERT_TRUE(rec.has_value()) << rec.error().ToString();
  EXPECT_EQ(rec->state, State::kScheduled);
  EXPECT_EQ(rec->updated_at_us, 6);
  auto audit = store_->Audit(CommandId(4));
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].from, State::kNone);
  EXPECT_EQ((*audit)[0].to, State::kPending);
  EXPECT_EQ((*audit)[0].time_us, 4);
  EXPECT_EQ(store_->Get(CommandId(2))->state, State::kSucceeded);
  // It moves on from its derived status like any other.
  Finish(4);
  Reopen();
  EXPECT_EQ(UnfinishedIds(*store_), (std::vector<uint64_t>{1, 3, 5, 6}));
}

TEST_F(StatusCheckpointTest, ACheckpointStoresTheStatusesStillMissing) {
  checkpoint_every_ = 10;
  Reopen();
  for (uint64_t id = 1; id <= 35; ++id) {
    ASSERT_TRUE(Insert(id).ok());
    if (id % 7 == 0) Finish(id);
  }
  const uint64_t watermark = Watermark();
  // Three checkpoints ran; the open above read back only the commands above the last.
  EXPECT_GE(watermark, 30u);
  EXPECT_LE(watermark, 36u);
  std::vector<uint64_t> want;
  for (uint64_t id = 1; id <= 35; ++id) {
    if (id % 7 != 0) want.push_back(id);
  }
  EXPECT_EQ(UnfinishedIds(*store_), want);
  EXPECT_EQ(store_->Get(CommandId(14))->state, State::kSucceeded);
}

// A backlog older than the watermark is worked off while new commands come in: writes
// that move old commands must not hold checkpoints back (the watermark, the memory of the
// commands waiting for one, and what a reopen reads back would grow without bound).
TEST_F(StatusCheckpointTest, MovesOfOlderCommandsDoNotHoldCheckpointsBack) {
  checkpoint_every_ = 10;
  Reopen();
  for (uint64_t id = 1; id <= 200; ++id) ASSERT_TRUE(Insert(id).ok());
  const uint64_t before = Watermark();
  ASSERT_GE(before, 190u);
  for (uint64_t i = 0; i < 150; ++i) {
    StoreBatch b;
    const uint64_t id = 1000 + i;
    b.Insert(testing::MakeCommand(id), State::kPending, static_cast<int64_t>(id));
    b.Apply({.id = CommandId(1 + i), .from = State::kPending, .to = State::kRunning, .attempt = 1});
    ASSERT_TRUE(store_->Write(b, {.sync = true}).ok());
  }
  // 150 inserts with a checkpoint due every 10.
  EXPECT_GT(Watermark(), 1100u);
  EXPECT_EQ(UnfinishedIds(*store_).size(), 350u);
  EXPECT_EQ(store_->Get(CommandId(1))->state, State::kRunning);
  EXPECT_EQ(AllPages({.type = std::string("t"), .limit = 100}).size(), 350u);
}

TEST_F(StatusCheckpointTest, AnOldIdBelowTheWatermarkKeepsItsStatus) {
  checkpoint_every_ = 3;
  Reopen();
  for (uint64_t id = 100; id < 110; ++id) ASSERT_TRUE(Insert(id).ok());
  ASSERT_GE(Watermark(), 100u);
  // Below the watermark no checkpoint will look again: the insert writes its status.
  ASSERT_TRUE(Insert(50).ok());
  Reopen();
  std::vector<uint64_t> want{50};
  for (uint64_t id = 100; id < 110; ++id) want.push_back(id);
  EXPECT_EQ(UnfinishedIds(*store_), want);
  // And its own index entries: List by key and type finds it among the buckets.
  std::vector<uint64_t> newest_first(want.rbegin(), want.rend());
  EXPECT_EQ(AllPages({.key = std::string("k"), .limit = 3}), newest_first);
  EXPECT_EQ(AllPages({.type = std::string("t"), .limit = 4}), newest_first);
}

class StatusCheckpointListTest : public StatusCheckpointTest,
                                 public ::testing::WithParamInterface<size_t> {
 protected:
  void SetUp() override {
    checkpoint_every_ = GetParam();
    StatusCheckpointTest::SetUp();
  }
};

TEST_P(StatusCheckpointListTest, ShowsEachRecordOnceWhateverItsStatusEntry) {
  for (uint64_t id = 1; id <= 12; ++id) ASSERT_TRUE(Insert(id, id % 2 ? "odd" : "even").ok());
  Finish(3);
  Finish(8);
  ASSERT_TRUE(Move(5, State::kPending, State::kRunning, {.attempt = 1}).ok());
  for (bool reopen : {false, true}) {
    SCOPED_TRACE(reopen ? "after reopen" : "before reopen");
    if (reopen) Reopen();
    EXPECT_EQ(AllPages({.limit = 5}), Descending(1, 12));
    EXPECT_EQ(AllPages({.state = State::kSucceeded, .limit = 5}), (std::vector<uint64_t>{8, 3}));
    EXPECT_EQ(AllPages({.state = State::kPending, .limit = 5}),
              (std::vector<uint64_t>{12, 11, 10, 9, 7, 6, 4, 2, 1}));
    EXPECT_EQ(AllPages({.key = std::string("odd"), .limit = 2}),
              (std::vector<uint64_t>{11, 9, 7, 5, 3, 1}));
    EXPECT_EQ(AllPages({.type = std::string("t"), .limit = 5}), Descending(1, 12));
    EXPECT_EQ(AllPages({.key = std::string("even"), .before = CommandId(9), .limit = 1}),
              (std::vector<uint64_t>{8, 6, 4, 2}));
  }
}

INSTANTIATE_TEST_SUITE_P(CheckpointEvery, StatusCheckpointListTest,
                         ::testing::Values(1, 2, 3, 1000));

// Writers insert and finish while checkpoints come every few inserts and a reader lists
// by key and type: every page is newest first without repeats, and in the end each key
// lists exactly its commands, before and after a reopen.
TEST_F(StatusCheckpointTest, ListsStayExactWhileCheckpointsRunUnderLoad) {
  checkpoint_every_ = 37;
  Reopen();
  const int threads = 4;
  const uint64_t per_thread = testing::Scaled(3000);
  std::atomic<bool> writing{true};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (uint64_t i = 0; i < per_thread; i += 16) {
        StoreBatch in;
        StoreBatch done;
        for (uint64_t j = i; j < std::min(per_thread, i + 16); ++j) {
          const uint64_t id = 1 + j * threads + static_cast<uint64_t>(t);
          in.Insert(testing::MakeCommand(id, "key-" + std::to_string(id % 5)), State::kPending,
                    static_cast<int64_t>(id));
          if (j % 3 == 0) continue;  // a third stays pending
          done.Apply({.id = CommandId(id), .from = State::kPending, .to = State::kRunning});
          done.Apply({.id = CommandId(id), .from = State::kRunning, .to = State::kSucceeded});
        }
        if (!store_->Write(in, {.sync = i % 64 == 0}).ok()) ++failures;
        if (!done.empty() && !store_->Write(done, {}).ok()) ++failures;
      }
    });
  }
  std::thread reader([&] {
    while (writing.load()) {
      for (ListQuery q :
           {ListQuery{.key = std::string("key-2"), .limit = 50},
            ListQuery{.type = std::string("t"), .limit = 50}, ListQuery{.limit = 50}}) {
        auto page = store_->List(q);
        if (!page) {
          ++failures;
          continue;
        }
        for (size_t i = 1; i < page->records.size(); ++i) {
          if (page->records[i].command.id >= page->records[i - 1].command.id) ++failures;
        }
      }
    }
  });
  for (auto& w : writers) w.join();
  writing.store(false);
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  const uint64_t total = per_thread * threads;
  std::vector<uint64_t> key2;
  for (uint64_t id = total; id >= 1; --id) {
    if (id % 5 == 2) key2.push_back(id);
  }
  for (bool reopen : {false, true}) {
    SCOPED_TRACE(reopen ? "after reopen" : "before reopen");
    if (reopen) Reopen();
    EXPECT_EQ(AllPages({.key = std::string("key-2"), .limit = 100}), key2);
    EXPECT_EQ(AllPages({.type = std::string("t"), .limit = 1000}).size(), total);
    EXPECT_EQ(AllPages({.limit = 1000}).size(), total);
    EXPECT_EQ(UnfinishedIds(*store_).size(), (per_thread + 2) / 3 * threads);
  }
}

TEST_F(StatusCheckpointTest, ScanGivesAnUnmovedCommandItsInitialStatus) {
  for (uint64_t id = 1; id <= 4; ++id) ASSERT_TRUE(Insert(id).ok());
  Finish(2);
  auto scanned = store_->Scan(CommandId(1), CommandId(5), 10);
  ASSERT_TRUE(scanned.has_value()) << scanned.error().ToString();
  ASSERT_EQ(scanned->size(), 4u);
  EXPECT_EQ((*scanned)[0].record.state, State::kPending);
  EXPECT_EQ((*scanned)[0].audit.size(), 1u);
  EXPECT_EQ((*scanned)[1].record.state, State::kSucceeded);
  EXPECT_EQ((*scanned)[1].audit.size(), 3u);
}

TEST_F(StatusCheckpointTest, AVersionOneStoreIsUpgradedInPlace) {
  // A version 1 store: every command has its status entry (moved once here), no watermark.
  for (uint64_t id = 1; id <= 4; ++id) {
    ASSERT_TRUE(Insert(id).ok());
    ASSERT_TRUE(Move(id, State::kPending, State::kRunning, {.attempt = 1}).ok());
  }
  store_.reset();
  WriteMeta(dir_.Sub("db"), "format_version", "1");
  WriteMeta(dir_.Sub("db"), "status_complete_below", std::nullopt);
  Open();
  ASSERT_TRUE(Insert(5).ok());
  store_.reset();
  EXPECT_EQ(ReadMeta(dir_.Sub("db"), "format_version"), "2");
  EXPECT_EQ(ReadMeta(dir_.Sub("db"), "status_complete_below"), "5");
  Open();
  EXPECT_EQ(UnfinishedIds(*store_), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(store_->Get(CommandId(3))->state, State::kRunning);
  EXPECT_EQ(store_->Get(CommandId(5))->state, State::kPending);
}

TEST_F(StatusCheckpointTest, AVersionTwoStoreWithoutAWatermarkIsRefused) {
  Insert(1);
  store_.reset();
  WriteMeta(dir_.Sub("db"), "status_complete_below", std::nullopt);
  auto s = OpenRocksDbStore(Options());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), StatusCode::kCorruption);
  EXPECT_NE(s.error().message().find("watermark"), std::string::npos) << s.error().message();
}

}  // namespace
}  // namespace cmdq::rocksdb_store
