// The Store contract over the RocksDB backend, against real RocksDB in a fresh directory.
#include "cmdq/rocksdb_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <set>
#include <thread>

#include "store/rocksdb/rocksdb_store.h"
#include "store/rocksdb/store_fixture.h"
#include "store/rocksdb/test_dir.h"

namespace cmdq::rocksdb_store {
namespace {

using testing::MakeCommand;
using testing::RocksDbStoreTest;
using testing::Scaled;
using testing::TempDir;
using testing::TestOptions;

TEST_F(RocksDbStoreTest, InsertThenGetAndAudit) {
  ASSERT_TRUE(Insert(7, "user-1", "email.send").ok());
  auto rec = store_->Get(CommandId(7));
  ASSERT_TRUE(rec.has_value()) << rec.error().ToString();
  EXPECT_EQ(rec->command.key, "user-1");
  EXPECT_EQ(rec->command.type, "email.send");
  EXPECT_EQ(rec->command.payload, "payload-7");
  EXPECT_EQ(rec->command.headers.size(), 1u);
  EXPECT_EQ(rec->state, State::kPending);
  EXPECT_EQ(rec->updated_at_us, 7);
  ASSERT_TRUE(Move(7, State::kPending, State::kRunning,
                   {.time_us = 20, .attempt = 1, .worker = "w1", .lease_expires_us = 99})
                  .ok());
  rec = store_->Get(CommandId(7));
  EXPECT_EQ(rec->lease_worker, "w1");
  EXPECT_EQ(rec->lease_expires_us, 99);
  auto audit = store_->Audit(CommandId(7));
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].from, State::kNone);
  EXPECT_EQ((*audit)[1].to, State::kRunning);
  EXPECT_EQ((*audit)[1].id, CommandId(7));
  EXPECT_EQ((*audit)[1].sequence, 1u);
  EXPECT_EQ(store_->Get(CommandId(8)).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Audit(CommandId(8)).error().code(), StatusCode::kNotFound);
}

TEST_F(RocksDbStoreTest, RefusedBatchChangesNothing) {
  ASSERT_TRUE(Insert(1).ok());
  StoreBatch b;
  b.Insert(MakeCommand(2), State::kPending, 0);
  b.Apply({.id = CommandId(1), .from = State::kPending, .to = State::kRunning});
  b.Apply({.id = CommandId(3), .from = State::kPending, .to = State::kRunning});  // missing
  EXPECT_EQ(store_->Write(b, {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(CommandId(2)).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(CommandId(1))->state, State::kPending);
  EXPECT_EQ(store_->Audit(CommandId(1))->size(), 1u);
  // Nothing of it reached the disk either.
  Reopen();
  EXPECT_EQ(store_->Get(CommandId(2)).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(CommandId(1))->state, State::kPending);
}

TEST_F(RocksDbStoreTest, DuplicateInsertIsAlreadyExistsAlsoBelowTheNewestId) {
  ASSERT_TRUE(Insert(10).ok());
  ASSERT_TRUE(Insert(20).ok());
  EXPECT_EQ(Insert(20).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Insert(10).code(), StatusCode::kAlreadyExists);  // not the newest: read from disk
  EXPECT_TRUE(Insert(15).ok());                              // older but free
  Reopen();
  EXPECT_EQ(Insert(20).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Insert(15).code(), StatusCode::kAlreadyExists);
}

TEST_F(RocksDbStoreTest, WrongStateTransitionIsFailedPrecondition) {
  ASSERT_TRUE(Insert(1).ok());
  Status s = Move(1, State::kRunning, State::kSucceeded);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("pending"), std::string::npos) << s.message();
  EXPECT_EQ(Move(1, State::kPending, State::kSucceeded).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Move(2, State::kPending, State::kRunning).code(), StatusCode::kNotFound);
}

TEST_F(RocksDbStoreTest, CoalescesTransitionsOfOneIdIntoOnePut) {
  StoreBatch b;
  b.Insert(MakeCommand(1), State::kPending, 1);
  b.Apply({.id = CommandId(1), .from = State::kPending, .to = State::kRunning, .attempt = 1});
  b.Apply({.id = CommandId(1),
           .from = State::kRunning,
           .to = State::kSucceeded,
           .attempt = 1,
           .result = "done"});
  ASSERT_TRUE(store_->Write(b, {.sync = true}).ok());
  auto rec = store_->Get(CommandId(1));
  EXPECT_EQ(rec->state, State::kSucceeded);
  EXPECT_EQ(rec->result, "done");
  EXPECT_EQ(store_->Audit(CommandId(1))->size(), 3u);
  EXPECT_TRUE(store_->Unfinished()->empty());
  store_.reset();
  // RocksDB gives each entry of a batch a sequence number: the meta write at creation took
  // four, the batch above must take two (command, status once; the index entries wait for
  // a checkpoint).
  testing::WithRawStore(dir_.Sub("db"), true, [](rocksdb::DB& raw, const auto&) {
    EXPECT_EQ(raw.GetLatestSequenceNumber(), 4u + 2u);
  });
}

TEST_F(RocksDbStoreTest, ListsByKeyStateAndTypeNewestFirstAcrossPages) {
  std::map<uint64_t, std::tuple<std::string, std::string, State>> expected;
  for (uint64_t id = 1; id <= 200; ++id) {
    std::string key = "user-" + std::to_string(id % 3);
    std::string type = id % 2 ? "odd" : "even";
    ASSERT_TRUE(Insert(id, key, type).ok());
    State state = State::kPending;
    if (id % 5 == 0) {
      Finish(id);
      state = State::kSucceeded;
    } else if (id % 7 == 0) {
      ASSERT_TRUE(Move(id, State::kPending, State::kRunning).ok());
      state = State::kRunning;
    }
    expected[id] = {key, type, state};
  }
  auto want = [&](auto pred) {
    std::vector<uint64_t> ids;
    for (auto it = expected.rbegin(); it != expected.rend(); ++it) {
      if (pred(it->second)) ids.push_back(it->first);
    }
    return ids;
  };
  for (uint32_t limit : {1u, 7u, 50u, 1000u}) {
    SCOPED_TRACE(limit);
    EXPECT_EQ(AllPages({.limit = limit}), want([](auto&) { return true; }));
    EXPECT_EQ(AllPages({.key = "user-1", .limit = limit}),
              want([](auto& e) { return std::get<0>(e) == "user-1"; }));
    EXPECT_EQ(AllPages({.type = "odd", .limit = limit}),
              want([](auto& e) { return std::get<1>(e) == "odd"; }));
    for (State s : {State::kPending, State::kRunning, State::kSucceeded, State::kDead}) {
      EXPECT_EQ(AllPages({.state = s, .limit = limit}),
                want([s](auto& e) { return std::get<2>(e) == s; }));
    }
    EXPECT_EQ(
        AllPages({.key = "user-2", .state = State::kSucceeded, .type = "even", .limit = limit}),
        want([](auto& e) {
          return std::get<0>(e) == "user-2" && std::get<1>(e) == "even" &&
                 std::get<2>(e) == State::kSucceeded;
        }));
  }
  // A full last page says there is no more.
  auto page = store_->List({.key = "nobody", .limit = 5});
  EXPECT_TRUE(page->records.empty());
  EXPECT_FALSE(page->next_cursor.valid());
  page = store_->List({.before = CommandId(4), .limit = 3});
  ASSERT_EQ(page->records.size(), 3u);
  EXPECT_FALSE(page->next_cursor.valid());
}

TEST_F(RocksDbStoreTest, LimitOutsideOneToAThousandIsInvalidArgumentNamingLimit) {
  for (uint32_t bad : {0u, 1001u}) {
    auto page = store_->List({.limit = bad});
    ASSERT_FALSE(page.has_value());
    EXPECT_EQ(page.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(page.error().field(), "limit");
  }
  EXPECT_TRUE(store_->List({.limit = 1}).has_value());
  EXPECT_TRUE(store_->List({.limit = 1000}).has_value());
}

TEST_F(RocksDbStoreTest, TerminalStateListStaysWithinTheScanBudget) {
  // The oldest three succeeded, then more pending ones than one call may examine.
  const uint64_t n = kListScanBudget + 500;
  for (uint64_t first = 1; first <= n; first += 1000) {
    StoreBatch b;
    for (uint64_t id = first; id < first + 1000 && id <= n; ++id) {
      b.Insert(MakeCommand(id), State::kPending, 0);
      if (id <= 3) {
        b.Apply({.id = CommandId(id), .from = State::kPending, .to = State::kCancelled});
      }
    }
    ASSERT_TRUE(store_->Write(b, {}).ok());
  }
  auto first = store_->List({.state = State::kCancelled, .limit = 10});
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->records.empty());      // budget spent before reaching them...
  EXPECT_TRUE(first->next_cursor.valid());  // ...so it says where to go on
  EXPECT_EQ(AllPages({.state = State::kCancelled, .limit = 10}), (std::vector<uint64_t>{3, 2, 1}));
}

TEST_F(RocksDbStoreTest, UnfinishedIsOldestFirstAndSurvivesReopen) {
  for (uint64_t id : {5, 3, 9, 1}) ASSERT_TRUE(Insert(id).ok());
  Finish(3);
  ASSERT_TRUE(Move(9, State::kPending, State::kRunning, {.attempt = 1, .worker = "w"}).ok());
  auto check = [&] {
    auto u = store_->Unfinished();
    ASSERT_TRUE(u.has_value());
    std::vector<uint64_t> ids;
    for (const Record& r : *u) ids.push_back(r.command.id.value());
    EXPECT_EQ(ids, (std::vector<uint64_t>{1, 5, 9}));
    EXPECT_EQ(u->back().state, State::kRunning);
    EXPECT_EQ(u->back().lease_worker, "w");
    EXPECT_EQ(u->back().command.payload, "payload-9");
  };
  check();
  Reopen();
  check();
  auto audit = store_->Audit(CommandId(3));
  ASSERT_EQ(audit->size(), 3u);
  EXPECT_EQ(audit->back().to, State::kSucceeded);
}

TEST_F(RocksDbStoreTest, TerminalRecordsMoveAgainAfterReopen) {
  ASSERT_TRUE(Insert(1).ok());
  ASSERT_TRUE(Insert(2).ok());
  Finish(1);
  ASSERT_TRUE(Move(2, State::kPending, State::kRunning).ok());
  ASSERT_TRUE(Move(2, State::kRunning, State::kFailed, {.error = "boom"}).ok());
  ASSERT_TRUE(Move(2, State::kFailed, State::kDead).ok());
  Reopen();
  EXPECT_TRUE(store_->Unfinished()->empty());
  ASSERT_TRUE(Move(1, State::kSucceeded, State::kUndone).ok());  // undo
  ASSERT_TRUE(Move(2, State::kDead, State::kPending).ok());      // re-drive
  EXPECT_EQ(store_->Get(CommandId(1))->state, State::kUndone);
  EXPECT_EQ(store_->Get(CommandId(2))->error, "boom");
  EXPECT_EQ(store_->Audit(CommandId(2))->size(), 5u);
  ASSERT_EQ(store_->Unfinished()->size(), 1u);
  EXPECT_EQ(AllPages({.state = State::kPending, .limit = 10}), (std::vector<uint64_t>{2}));
}

TEST_F(RocksDbStoreTest, ListsByKeyWithoutTheIndexByScanning) {
  auto options = TestOptions(dir_.Sub("noindex"));
  options.index_key_and_type = false;
  Open(options);
  for (uint64_t id = 1; id <= 30; ++id) ASSERT_TRUE(Insert(id, id % 2 ? "a" : "b").ok());
  EXPECT_EQ(AllPages({.key = "a", .limit = 4}).size(), 15u);
  // The choice is the store's, made at creation: a later open keeps it.
  options.index_key_and_type = true;
  Open(options);
  EXPECT_EQ(AllPages({.key = "b", .type = "t", .limit = 4}).size(), 15u);
}

TEST_F(RocksDbStoreTest, ConcurrentWritersKeepEveryRecord) {
  const int threads = 4;
  const uint64_t per_thread = Scaled(4000);
  const uint64_t batch = 64;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (uint64_t first = 0; first < per_thread; first += batch) {
        StoreBatch in;
        StoreBatch done;
        for (uint64_t i = first; i < std::min(per_thread, first + batch); ++i) {
          uint64_t id = 1 + i * threads + static_cast<uint64_t>(t);
          in.Insert(MakeCommand(id, "key-" + std::to_string(id % 10)), State::kPending, 0);
          done.Apply({.id = CommandId(id), .from = State::kPending, .to = State::kRunning});
          done.Apply({.id = CommandId(id), .from = State::kRunning, .to = State::kSucceeded});
        }
        if (!store_->Write(in, {.sync = first % (4 * batch) == 0}).ok()) ++failures;
        if (!store_->Write(done, {}).ok()) ++failures;
        if (!store_->List({.key = "key-3", .limit = 5}).has_value()) ++failures;
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(store_->Unfinished()->empty());
  const uint64_t total = per_thread * threads;
  EXPECT_EQ(AllPages({.state = State::kSucceeded, .limit = 1000}).size(), total);
  Reopen();
  std::vector<uint64_t> all = AllPages({.limit = 1000});
  ASSERT_EQ(all.size(), total);
  EXPECT_TRUE(std::is_sorted(all.rbegin(), all.rend()));
  EXPECT_EQ(std::set<uint64_t>(all.begin(), all.end()).size(), total);
}

// Two writes may be in RocksDB at once; two that touch one id never are. Here a "worker"
// and a "canceller" race on every id: exactly one of them wins each, and what is stored
// (read back after a reopen) is the winner's, never an older status over a newer one.
TEST_F(RocksDbStoreTest, RacingWritesOfOneIdApplyOneAfterTheOther) {
  const uint64_t n = Scaled(2000, 200);
  StoreBatch in;
  for (uint64_t id = 1; id <= n; ++id) in.Insert(MakeCommand(id), State::kPending, 0);
  ASSERT_TRUE(store_->Write(in, {.sync = true}).ok());
  std::vector<uint8_t> worker_won(n + 1, 0);
  std::vector<uint8_t> canceller_won(n + 1, 0);
  std::thread worker([&] {
    for (uint64_t id = 1; id <= n; ++id) {
      if (!Move(id, State::kPending, State::kRunning, {.attempt = 1}).ok()) continue;
      worker_won[id] = 1;
      StoreBatch done;
      done.Apply({.id = CommandId(id), .from = State::kRunning, .to = State::kSucceeded});
      EXPECT_TRUE(store_->Write(done, {.sync = id % 8 == 0}).ok());
    }
  });
  std::thread canceller([&] {
    for (uint64_t id = 1; id <= n; ++id) {
      StoreBatch b;
      b.Apply({.id = CommandId(id), .from = State::kPending, .to = State::kCancelled});
      if (store_->Write(b, {.sync = id % 8 == 4}).ok()) canceller_won[id] = 1;
    }
  });
  worker.join();
  canceller.join();
  Reopen();
  for (uint64_t id = 1; id <= n; ++id) {
    ASSERT_EQ(worker_won[id] + canceller_won[id], 1) << id;
    auto rec = store_->Get(CommandId(id));
    ASSERT_TRUE(rec.has_value()) << id;
    EXPECT_EQ(rec->state, worker_won[id] ? State::kSucceeded : State::kCancelled) << id;
    EXPECT_EQ(store_->Audit(CommandId(id))->size(), worker_won[id] ? 3u : 2u) << id;
  }
  EXPECT_TRUE(store_->Unfinished()->empty());
}

}  // namespace
}  // namespace cmdq::rocksdb_store
