#include "store/memory_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "store/store_test_util.h"

namespace cmdq::store {
namespace {

using testing::Finish;
using testing::InsertOne;
using testing::MakeCommand;
using testing::Move;
using testing::MoveOne;
using testing::Scaled;

TEST(MemoryStore, InsertsGetsAndAudits) {
  auto store = NewMemoryStore();
  auto command = MakeCommand(42, "user-1", "email.send");
  StoreBatch batch;
  batch.Insert(command, State::kScheduled, 1000);
  ASSERT_TRUE(store->Write(batch, {}).ok());

  auto record = store->Get(CommandId(42));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->command.id, CommandId(42));
  EXPECT_EQ(record->command.key, "user-1");
  EXPECT_EQ(record->command.payload, "payload-42");
  EXPECT_EQ(record->state, State::kScheduled);
  EXPECT_EQ(record->updated_at_us, 1000);

  auto audit = store->Audit(CommandId(42));
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].id, CommandId(42));
  EXPECT_EQ((*audit)[0].sequence, 0u);
  EXPECT_EQ((*audit)[0].from, State::kNone);
  EXPECT_EQ((*audit)[0].to, State::kScheduled);
  EXPECT_EQ((*audit)[0].time_us, 1000);
}

TEST(MemoryStore, KeepsTheCommandSharedInsteadOfCopyingIt) {
  auto store = NewMemoryStore();
  auto command = MakeCommand(1);
  StoreBatch batch;
  batch.Insert(command, State::kPending, 0);
  ASSERT_TRUE(store->Write(batch, {}).ok());
  batch.Clear();
  EXPECT_EQ(command.use_count(), 2);
}

TEST(MemoryStore, FillsTheRecordFromTransitions) {
  auto store = NewMemoryStore();
  ASSERT_TRUE(InsertOne(*store, 7).ok());

  StoreBatch run;
  run.Apply({.id = CommandId(7),
             .from = State::kPending,
             .to = State::kRunning,
             .time_us = 10,
             .attempt = 1,
             .worker = "w1",
             .lease_expires_us = 500});
  ASSERT_TRUE(store->Write(run, {}).ok());
  auto r = store->Get(CommandId(7));
  EXPECT_EQ(r->state, State::kRunning);
  EXPECT_EQ(r->attempt, 1u);
  EXPECT_EQ(r->lease_worker, "w1");
  EXPECT_EQ(r->lease_expires_us, 500);
  EXPECT_EQ(r->updated_at_us, 10);

  StoreBatch fail;
  fail.Apply({.id = CommandId(7),
              .from = State::kRunning,
              .to = State::kFailed,
              .time_us = 20,
              .attempt = 1,
              .worker = "w1",
              .message = "boom",
              .error = "boom",
              .next_attempt_us = 900});
  ASSERT_TRUE(store->Write(fail, {}).ok());
  r = store->Get(CommandId(7));
  EXPECT_EQ(r->state, State::kFailed);
  EXPECT_EQ(r->lease_worker, "");
  EXPECT_EQ(r->lease_expires_us, 0);
  EXPECT_EQ(r->error, "boom");
  EXPECT_EQ(r->next_attempt_us, 900);

  ASSERT_TRUE(MoveOne(*store, 7, State::kFailed, State::kPending, 30).ok());
  r = store->Get(CommandId(7));
  EXPECT_EQ(r->next_attempt_us, 0);
  EXPECT_EQ(r->error, "boom");  // kept until a transition sets or clears it

  StoreBatch finish;
  finish.Apply({.id = CommandId(7),
                .from = State::kPending,
                .to = State::kRunning,
                .time_us = 40,
                .attempt = 2,
                .worker = "w2",
                .lease_expires_us = 600});
  finish.Apply({.id = CommandId(7),
                .from = State::kRunning,
                .to = State::kSucceeded,
                .time_us = 50,
                .attempt = 2,
                .worker = "w2",
                .result = "done",
                .error = ""});
  ASSERT_TRUE(store->Write(finish, {}).ok());
  r = store->Get(CommandId(7));
  EXPECT_EQ(r->state, State::kSucceeded);
  EXPECT_EQ(r->attempt, 2u);
  EXPECT_EQ(r->result, "done");
  EXPECT_EQ(r->error, "");
  EXPECT_EQ(r->lease_worker, "");
  EXPECT_EQ(r->updated_at_us, 50);

  auto audit = store->Audit(CommandId(7));
  ASSERT_EQ(audit->size(), 6u);  // more than the inline three
  const State expected[][2] = {
      {State::kNone, State::kPending},    {State::kPending, State::kRunning},
      {State::kRunning, State::kFailed},  {State::kFailed, State::kPending},
      {State::kPending, State::kRunning}, {State::kRunning, State::kSucceeded}};
  for (size_t i = 0; i < audit->size(); ++i) {
    EXPECT_EQ((*audit)[i].sequence, i);
    EXPECT_EQ((*audit)[i].id, CommandId(7));
    EXPECT_EQ((*audit)[i].from, expected[i][0]);
    EXPECT_EQ((*audit)[i].to, expected[i][1]);
  }
  EXPECT_EQ((*audit)[2].message, "boom");
  EXPECT_EQ((*audit)[2].worker, "w1");
  EXPECT_EQ((*audit)[5].attempt, 2u);
  EXPECT_EQ((*audit)[5].time_us, 50);
}

TEST(MemoryStore, RefusesADuplicateInsert) {
  auto store = NewMemoryStore();
  ASSERT_TRUE(InsertOne(*store, 1).ok());
  EXPECT_EQ(InsertOne(*store, 1).code(), StatusCode::kAlreadyExists);

  StoreBatch twice;
  twice.Insert(MakeCommand(2), State::kPending, 0);
  twice.Insert(MakeCommand(2), State::kPending, 0);
  EXPECT_EQ(store->Write(twice, {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->Get(CommandId(2)).error().code(), StatusCode::kNotFound);
}

TEST(MemoryStore, RejectsATransitionOfAnUnknownId) {
  auto store = NewMemoryStore();
  EXPECT_EQ(MoveOne(*store, 9, State::kPending, State::kRunning).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Get(CommandId(9)).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Audit(CommandId(9)).error().code(), StatusCode::kNotFound);
}

TEST(MemoryStore, RejectsTransitionFromWrongState) {
  auto store = NewMemoryStore();
  ASSERT_TRUE(InsertOne(*store, 1).ok());
  EXPECT_EQ(MoveOne(*store, 1, State::kRunning, State::kSucceeded).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Get(CommandId(1))->state, State::kPending);
  EXPECT_EQ(store->Audit(CommandId(1))->size(), 1u);
}

TEST(MemoryStore, RejectsAnIllegalTransition) {
  auto store = NewMemoryStore();
  ASSERT_TRUE(InsertOne(*store, 1).ok());
  EXPECT_EQ(MoveOne(*store, 1, State::kPending, State::kSucceeded).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Get(CommandId(1))->state, State::kPending);
}

TEST(MemoryStore, RejectsBadInserts) {
  auto store = NewMemoryStore();
  StoreBatch null_command;
  null_command.Insert(nullptr, State::kPending, 0);
  EXPECT_EQ(store->Write(null_command, {}).field(), "command");
  StoreBatch no_id;
  no_id.Insert(MakeCommand(0), State::kPending, 0);
  EXPECT_EQ(store->Write(no_id, {}).field(), "id");
  StoreBatch terminal;
  terminal.Insert(MakeCommand(1), State::kSucceeded, 0);
  EXPECT_EQ(store->Write(terminal, {}).field(), "state");
  EXPECT_FALSE(store->Get(CommandId(1)).has_value());
}

TEST(MemoryStore, AppliesNothingWhenATransitionInTheMiddleIsBad) {
  auto store = NewMemoryStore();
  ASSERT_TRUE(InsertOne(*store, 1).ok());
  ASSERT_TRUE(InsertOne(*store, 2).ok());
  StoreBatch batch;
  for (uint64_t id = 100; id < 110; ++id) batch.Insert(MakeCommand(id), State::kPending, 0);
  batch.Apply(Move(1, State::kPending, State::kRunning));
  batch.Apply(Move(100, State::kPending, State::kRunning));
  batch.Apply(Move(2, State::kRunning, State::kSucceeded));  // 2 is pending: refused
  batch.Apply(Move(101, State::kPending, State::kRunning));
  EXPECT_EQ(store->Write(batch, {}).code(), StatusCode::kFailedPrecondition);

  EXPECT_EQ(store->Get(CommandId(1))->state, State::kPending);
  EXPECT_EQ(store->Audit(CommandId(1))->size(), 1u);
  EXPECT_EQ(store->Get(CommandId(2))->state, State::kPending);
  for (uint64_t id = 100; id < 110; ++id) EXPECT_FALSE(store->Get(CommandId(id)).has_value());
  EXPECT_EQ(store->Unfinished()->size(), 2u);
}

TEST(MemoryStore, LetsABatchInsertAndMoveTheSameCommand) {
  auto store = NewMemoryStore();
  StoreBatch batch;
  batch.Insert(MakeCommand(5), State::kPending, 1);
  batch.Apply(Move(5, State::kPending, State::kRunning, 2));
  batch.Apply(Move(5, State::kRunning, State::kSucceeded, 3));
  ASSERT_TRUE(store->Write(batch, {}).ok());
  EXPECT_EQ(store->Get(CommandId(5))->state, State::kSucceeded);
  EXPECT_EQ(store->Audit(CommandId(5))->size(), 3u);

  // Within a batch the second transition sees the first: a repeat is refused.
  StoreBatch again;
  again.Insert(MakeCommand(6), State::kPending, 1);
  again.Apply(Move(6, State::kPending, State::kRunning));
  again.Apply(Move(6, State::kPending, State::kRunning));
  EXPECT_EQ(store->Write(again, {}).code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(store->Get(CommandId(6)).has_value());
}

// A batch of one new command and its own transitions (a sync submit) is checked without
// the store's tables; it must refuse what the general path refuses, and store nothing.
TEST(MemoryStore, ChecksANewCommandsWholeRunBeforeStoringIt) {
  auto store = NewMemoryStore();
  StoreBatch illegal;
  illegal.Insert(MakeCommand(7), State::kPending, 1);
  illegal.Apply(Move(7, State::kPending, State::kSucceeded));  // never ran
  EXPECT_EQ(store->Write(illegal, {}).code(), StatusCode::kFailedPrecondition);
  StoreBatch wrong_from;
  wrong_from.Insert(MakeCommand(7), State::kScheduled, 1);
  wrong_from.Apply(Move(7, State::kPending, State::kRunning));
  Status refused = store->Write(wrong_from, {});
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("is scheduled, not pending"), std::string::npos)
      << refused.message();
  EXPECT_FALSE(store->Get(CommandId(7)).has_value());

  ASSERT_TRUE(InsertOne(*store, 7).ok());
  StoreBatch again;
  again.Insert(MakeCommand(7), State::kPending, 1);
  again.Apply(Move(7, State::kPending, State::kRunning));
  EXPECT_EQ(store->Write(again, {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->Get(CommandId(7))->state, State::kPending);
  EXPECT_EQ(store->Audit(CommandId(7))->size(), 1u);
}

// A batch that inserts several commands and moves them, whatever its size, refuses a
// repeated id and sees its own inserts when it validates their moves.
TEST(MemoryStore, TracksTheIdsABatchInsertsWhateverItsSize) {
  for (uint64_t inserts = 1; inserts <= 12; ++inserts) {
    SCOPED_TRACE(inserts);
    auto store = NewMemoryStore();
    const uint64_t base = 1000 * inserts;
    StoreBatch repeated;
    for (uint64_t id = base; id < base + inserts; ++id) {
      repeated.Insert(MakeCommand(id), State::kPending, 0);
    }
    repeated.Insert(MakeCommand(base + inserts - 1), State::kPending, 0);
    EXPECT_EQ(store->Write(repeated, {}).code(), StatusCode::kAlreadyExists);
    EXPECT_FALSE(store->Get(CommandId(base)).has_value());

    StoreBatch chained;
    for (uint64_t id = base; id < base + inserts; ++id) {
      chained.Insert(MakeCommand(id), State::kPending, 0);
    }
    for (uint64_t id = base; id < base + inserts; ++id) {
      chained.Apply(Move(id, State::kPending, State::kRunning));
      chained.Apply(Move(id, State::kRunning, State::kSucceeded));
    }
    StoreBatch bad = chained;
    bad.Apply(Move(base, State::kRunning, State::kSucceeded));  // succeeded by then
    EXPECT_EQ(store->Write(bad, {}).code(), StatusCode::kFailedPrecondition);
    EXPECT_FALSE(store->Get(CommandId(base)).has_value());

    ASSERT_TRUE(store->Write(chained, {}).ok());
    for (uint64_t id = base; id < base + inserts; ++id) {
      EXPECT_EQ(store->Get(CommandId(id))->state, State::kSucceeded);
    }
  }
}

TEST(MemoryStore, AppliesALargeBatchAcrossShardsAtomically) {
  auto store = NewMemoryStore();
  StoreBatch batch;
  for (uint64_t id = 1; id <= 300; ++id) batch.Insert(MakeCommand(id), State::kPending, 0);
  for (uint64_t id = 1; id <= 300; ++id) batch.Apply(Move(id, State::kPending, State::kRunning));
  StoreBatch bad = batch;
  bad.Apply(Move(300, State::kPending, State::kRunning));  // already running by then
  EXPECT_EQ(store->Write(bad, {}).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store->Unfinished()->empty());

  ASSERT_TRUE(store->Write(batch, {}).ok());
  auto unfinished = store->Unfinished();
  ASSERT_EQ(unfinished->size(), 300u);
  for (const Record& r : *unfinished) EXPECT_EQ(r.state, State::kRunning);
}

// A multi-item batch marks the records it moves while it validates; a refused batch must
// leave no mark that the next one could mistake for its own.
TEST(MemoryStore, ARefusedBatchLeavesNothingForTheNextToSee) {
  auto store = NewMemoryStore();
  ASSERT_TRUE(InsertOne(*store, 1).ok());
  ASSERT_TRUE(InsertOne(*store, 2).ok());
  for (int round = 0; round < 3; ++round) {
    StoreBatch bad;
    bad.Apply(Move(1, State::kPending, State::kRunning));
    bad.Apply(Move(2, State::kRunning, State::kSucceeded));  // 2 is pending
    EXPECT_EQ(store->Write(bad, {}).code(), StatusCode::kFailedPrecondition);
  }
  StoreBatch good;
  good.Apply(Move(2, State::kPending, State::kRunning));
  good.Apply(Move(1, State::kPending, State::kRunning));
  good.Apply(Move(1, State::kRunning, State::kSucceeded));
  ASSERT_TRUE(store->Write(good, {}).ok());
  EXPECT_EQ(store->Get(CommandId(1))->state, State::kSucceeded);
  EXPECT_EQ(store->Get(CommandId(2))->state, State::kRunning);
  EXPECT_EQ(store->Audit(CommandId(1))->size(), 3u);
}

TEST(MemoryStore, MovesCommandsInterleavedWithinABatch) {
  auto store = NewMemoryStore();
  StoreBatch batch;
  for (uint64_t id = 1; id <= 50; ++id) ASSERT_TRUE(InsertOne(*store, id).ok());
  for (uint64_t id = 1; id <= 50; ++id) batch.Apply(Move(id, State::kPending, State::kRunning));
  for (uint64_t id = 50; id >= 1; --id) batch.Apply(Move(id, State::kRunning, State::kFailed));
  for (uint64_t id = 1; id <= 50; ++id) batch.Apply(Move(id, State::kFailed, State::kDead));
  ASSERT_TRUE(store->Write(batch, {}).ok());
  for (uint64_t id = 1; id <= 50; ++id) {
    EXPECT_EQ(store->Get(CommandId(id))->state, State::kDead);
    EXPECT_EQ(store->Audit(CommandId(id))->size(), 4u);
  }
}

// Pages through `query` and returns every id seen, in order.
std::vector<uint64_t> ListAll(const Store& store, ListQuery query) {
  std::vector<uint64_t> ids;
  for (int pages = 0; pages < 10'000; ++pages) {
    auto page = store.List(query);
    EXPECT_TRUE(page.has_value());
    if (!page.has_value()) break;
    for (const Record& r : page->records) ids.push_back(r.command.id.value());
    EXPECT_LE(page->records.size(), query.limit);
    if (!page->next_cursor.valid()) break;
    query.before = page->next_cursor;
  }
  return ids;
}

class MemoryStoreList : public ::testing::Test {
 protected:
  // 400 commands over keys a/b/c/d, types x/y; every third finished.
  void SetUp() override {
    std::mt19937 rng(7);
    for (uint64_t id = 1; id <= 400; ++id) {
      const std::string key(1, static_cast<char>('a' + rng() % 4));
      const std::string type = rng() % 2 ? "x" : "y";
      ASSERT_TRUE(InsertOne(*store_, id, key, type).ok());
      if (id % 3 == 0) Finish(*store_, id);
      all_.push_back({id, key, type, id % 3 == 0 ? State::kSucceeded : State::kPending});
    }
  }

  std::vector<uint64_t> Expected(const ListQuery& q) const {
    std::vector<uint64_t> ids;
    for (auto it = all_.rbegin(); it != all_.rend(); ++it) {
      if (q.key && it->key != *q.key) continue;
      if (q.type && it->type != *q.type) continue;
      if (q.state && it->state != *q.state) continue;
      ids.push_back(it->id);
    }
    return ids;
  }

  struct Item {
    uint64_t id;
    std::string key;
    std::string type;
    State state;
  };
  std::unique_ptr<Store> store_ = NewMemoryStore();
  std::vector<Item> all_;
};

TEST_F(MemoryStoreList, ByKeyNewestFirstAcrossPages) {
  for (const char* key : {"a", "b", "c", "d", "none"}) {
    ListQuery q{.key = key, .limit = 7};
    EXPECT_EQ(ListAll(*store_, q), Expected(q)) << key;
  }
}

TEST_F(MemoryStoreList, ByStateAndTypeAcrossPages) {
  ListQuery by_state{.state = State::kSucceeded, .limit = 9};
  EXPECT_EQ(ListAll(*store_, by_state), Expected(by_state));
  ListQuery by_type{.type = "x", .limit = 11};
  EXPECT_EQ(ListAll(*store_, by_type), Expected(by_type));
  ListQuery none{.limit = 13};
  EXPECT_EQ(ListAll(*store_, none), Expected(none));
  EXPECT_EQ(ListAll(*store_, none).size(), 400u);
}

TEST_F(MemoryStoreList, CombinesFiltersWithAnd) {
  ListQuery q{.key = "b", .state = State::kPending, .type = "y", .limit = 5};
  const auto expected = Expected(q);
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(ListAll(*store_, q), expected);
}

TEST_F(MemoryStoreList, StartsBelowTheCursor) {
  ListQuery q{.before = CommandId(101), .limit = 1000};
  auto page = store_->List(q);
  ASSERT_EQ(page->records.size(), 100u);
  EXPECT_EQ(page->records.front().command.id, CommandId(100));
  EXPECT_EQ(page->records.back().command.id, CommandId(1));
  EXPECT_FALSE(page->next_cursor.valid());
}

TEST_F(MemoryStoreList, GivesNoCursorWhenThePageHoldsTheLastRecord) {
  ListQuery q{.before = CommandId(11), .limit = 10};
  auto page = store_->List(q);
  EXPECT_EQ(page->records.size(), 10u);
  EXPECT_FALSE(page->next_cursor.valid());
  q.limit = 9;
  page = store_->List(q);
  EXPECT_EQ(page->next_cursor, CommandId(2));
}

TEST(MemoryStore, RefusesAListLimitOutOfBounds) {
  auto store = NewMemoryStore();
  for (uint32_t limit : {0u, 1001u}) {
    auto page = store->List({.limit = limit});
    ASSERT_FALSE(page.has_value());
    EXPECT_EQ(page.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(page.error().field(), "limit");
  }
  EXPECT_TRUE(store->List({.limit = 1}).has_value());
  EXPECT_TRUE(store->List({.limit = 1000}).has_value());
}

TEST(MemoryStore, ListsUnfinishedOldestFirst) {
  auto store = NewMemoryStore();
  std::vector<uint64_t> ids(200);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = (i + 1) * 1'000'003;
  std::shuffle(ids.begin(), ids.end(), std::mt19937(3));
  std::vector<uint64_t> expected;
  for (uint64_t id : ids) {
    ASSERT_TRUE(InsertOne(*store, id).ok());
    if (id % 2) {
      Finish(*store, id);
    } else {
      expected.push_back(id);
      if (id % 3 == 0) {
        ASSERT_TRUE(MoveOne(*store, id, State::kPending, State::kRunning).ok());
      }
    }
  }
  std::sort(expected.begin(), expected.end());
  auto unfinished = store->Unfinished();
  ASSERT_TRUE(unfinished.has_value());
  std::vector<uint64_t> got;
  for (const Record& r : *unfinished) got.push_back(r.command.id.value());
  EXPECT_EQ(got, expected);
}

TEST(MemoryStore, SurvivesConcurrentWritersHammering) {
  auto store = NewMemoryStore({.max_terminal_records = 0});
  constexpr int kThreads = 4;
  const size_t per_thread = Scaled(50'000);
  std::atomic<bool> done{false};
  // A reader lists and gets while the writers run, so tsan sees the read paths too.
  std::thread reader([&] {
    while (!done.load()) {
      (void)store->List({.key = "k1", .limit = 50});
      (void)store->List({.state = State::kRunning, .limit = 10});
      (void)store->Get(CommandId(1));
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (size_t i = 0; i < per_thread; ++i) {
        const uint64_t id = i * kThreads + t + 1;
        // Not "k" + to_string(): g++ 12 warns falsely (-Wrestrict) on that form.
        std::string key = std::to_string(id % 7);
        key.insert(key.begin(), 'k');
        ASSERT_TRUE(InsertOne(*store, id, std::move(key)).ok());
        ASSERT_TRUE(MoveOne(*store, id, State::kPending, State::kRunning).ok());
        ASSERT_TRUE(MoveOne(*store, id, State::kRunning, State::kSucceeded).ok());
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();

  for (uint64_t id = 1; id <= per_thread * kThreads; ++id) {
    auto r = store->Get(CommandId(id));
    ASSERT_TRUE(r.has_value()) << id;
    ASSERT_EQ(r->state, State::kSucceeded);
    ASSERT_EQ(store->Audit(CommandId(id))->size(), 3u);
  }
  EXPECT_TRUE(store->Unfinished()->empty());
}

// The bus's pattern with retention on: single inserts from one thread, batches of
// completions from another, records forgotten and their entries recycled meanwhile.
TEST(MemoryStore, SurvivesAProducerAndAWorkerWithRetention) {
  constexpr size_t kMax = 2000;
  MemoryStore store({.max_terminal_records = kMax});
  const uint64_t count = Scaled(200'000);
  std::atomic<uint64_t> inserted{0};
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      (void)store.List({.key = "k3", .limit = 20});
      (void)store.Get(CommandId(inserted.load()));
    }
  });
  std::thread worker([&] {
    uint64_t next = 1;
    while (next <= count) {
      const uint64_t end = std::min(inserted.load() + 1, next + 128);
      if (end == next) {
        std::this_thread::yield();
        continue;
      }
      StoreBatch batch;
      for (uint64_t id = next; id < end; ++id) {
        batch.Apply(Move(id, State::kPending, State::kRunning));
        batch.Apply(Move(id, State::kRunning, State::kSucceeded));
      }
      ASSERT_TRUE(store.Write(batch, {}).ok());
      next = end;
    }
  });
  for (uint64_t id = 1; id <= count; ++id) {
    std::string key = std::to_string(id % 5);
    key.insert(key.begin(), 'k');
    ASSERT_TRUE(InsertOne(store, id, std::move(key)).ok());
    inserted.store(id);
  }
  worker.join();
  done = true;
  reader.join();

  size_t kept = 0;
  for (uint64_t id = 1; id <= count; ++id) {
    auto r = store.Get(CommandId(id));
    if (!r.has_value()) continue;
    ++kept;
    ASSERT_EQ(r->state, State::kSucceeded);
    ASSERT_EQ(store.Audit(CommandId(id))->size(), 3u);
  }
  EXPECT_LE(kept, kMax + store.shard_count());
  EXPECT_GE(kept, kMax * 9 / 10);
  EXPECT_TRUE(store.Get(CommandId(count)).has_value());
  EXPECT_TRUE(store.Unfinished()->empty());
  auto page = store.List({.key = "k3", .limit = 1000});
  ASSERT_TRUE(page.has_value());
  for (const Record& r : page->records) EXPECT_EQ(r.command.key, "k3");
}

TEST(MemoryStore, DoesNotDeadlockOnBatchesAcrossShards) {
  auto store = NewMemoryStore({.max_terminal_records = 0});
  const size_t batches = Scaled(20'000);
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      for (size_t i = 0; i < batches; ++i) {
        // Two commands in (likely) different shards (different runs of 16 ids), visited
        // in either order.
        const uint64_t a = ((i * 2 + t) << 6) + 1;
        const uint64_t b = a + 32;
        const uint64_t first = rng() % 2 ? a : b;
        const uint64_t second = first == a ? b : a;
        StoreBatch batch;
        batch.Insert(MakeCommand(second), State::kPending, 0);
        batch.Insert(MakeCommand(first), State::kPending, 0);
        batch.Apply(Move(first, State::kPending, State::kRunning));
        batch.Apply(Move(second, State::kPending, State::kRunning));
        batch.Apply(Move(second, State::kRunning, State::kSucceeded));
        batch.Apply(Move(first, State::kRunning, State::kSucceeded));
        ASSERT_TRUE(store->Write(batch, {}).ok());
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_TRUE(store->Unfinished()->empty());
  EXPECT_EQ(ListAll(*store, {.state = State::kSucceeded, .limit = 1000}).size(), batches * 4);
}

}  // namespace
}  // namespace cmdq::store
