#include "engine/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/test_util.h"

namespace cmdq::engine {
namespace {

// Counts writes and lets a test hold the first `hold` ones until it says so.
class CountingStore final : public Store {
 public:
  explicit CountingStore(int hold) : hold_(hold) {}
  Status Write(const StoreBatch& batch, const WriteOptions& options) override {
    if (hold_.fetch_sub(1) > 0) {
      held_.fetch_add(1);
      while (!release_.load()) std::this_thread::yield();
    }
    std::lock_guard lock(mu_);
    ++writes_;
    items_ += batch.size();
    synced_ = synced_ && options.sync;
    return fail_ ? Status(StatusCode::kIoError, "disk on fire") : Status::Ok();
  }
  Result<Record> Get(CommandId) const override { return Error(Status::NotFound("")); }
  Result<ListPage> List(const ListQuery&) const override { return ListPage{}; }
  Result<std::vector<AuditEvent>> Audit(CommandId) const override {
    return std::vector<AuditEvent>{};
  }
  Result<std::vector<Record>> Unfinished() const override { return std::vector<Record>{}; }

  std::atomic<int> hold_;
  std::atomic<int> held_{0};
  std::atomic<bool> release_{false};
  std::mutex mu_;
  int writes_ = 0;
  size_t items_ = 0;
  bool synced_ = true;
  bool fail_ = false;
};

StoreBatch OneInsert(uint64_t id) {
  auto cmd = std::make_shared<Command>();
  cmd->id = CommandId(id);
  StoreBatch b;
  b.Insert(cmd, State::kPending, 1);
  return b;
}

TEST(GroupCommit, LoneWriterGoesAtOnce) {
  CountingStore store(0);
  GroupCommitter gc(store, true);
  StoreBatch b = OneInsert(1);
  ASSERT_TRUE(gc.Commit(b).ok());
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(store.writes_, 1);
  EXPECT_TRUE(store.synced_);
}

StoreBatch Inserts(uint64_t first_id, size_t count) {
  StoreBatch b;
  for (size_t k = 0; k < count; ++k)
    b.Absorb(*std::make_unique<StoreBatch>(OneInsert(first_id + k)));
  return b;
}

// Runs Commit on threads; when it goes, it lets the held writes go and joins them (so
// that a failed assertion ends the test rather than hanging it).
struct Writers {
  Writers(GroupCommitter& committer, CountingStore& held_store)
      : gc(committer), store(held_store) {}
  ~Writers() {
    store.release_.store(true);
    for (auto& t : threads) t.join();
  }
  void Start(uint64_t first_id, size_t items) {
    threads.emplace_back([this, first_id, items] {
      StoreBatch b = Inserts(first_id, items);
      EXPECT_TRUE(gc.Commit(b).ok());
    });
  }
  GroupCommitter& gc;
  CountingStore& store;
  std::vector<std::thread> threads;
};

// The store syncs one write at a time: small writers that come while a write is in
// flight wait for it, and then share one write, rather than each paying an fsync.
TEST(GroupCommit, SmallWritersWaitForTheWriteInFlightAndShareTheNext) {
  CountingStore store(2);  // a second write, if one started, would be held too
  GroupCommitter gc(store, true);
  {
    Writers writers(gc, store);
    writers.Start(1, 1);
    ASSERT_TRUE(testing::Eventually([&] { return store.held_.load() == 1; }));
    for (uint64_t i = 0; i < 8; ++i) writers.Start(100 + 10 * i, 3);
    ASSERT_TRUE(testing::Eventually([&] { return gc.waiting() == 8; }));
    EXPECT_EQ(store.held_.load(), 1);
    EXPECT_EQ(gc.batches(), 0u);
  }
  EXPECT_EQ(store.items_, 25u);
  EXPECT_EQ(gc.batches(), 9u);
  EXPECT_EQ(gc.writes(), 2u);  // the held one, then one for all eight
}

// A large group is written beside the write in flight (the store overlaps its inserts
// with the other's fsync); writers that come while both are held share the next write.
TEST(GroupCommit, ALargeGroupIsWrittenBesideTheWriteInFlight) {
  CountingStore store(2);
  GroupCommitter gc(store, true);
  {
    Writers writers(gc, store);
    writers.Start(1, 1);
    ASSERT_TRUE(testing::Eventually([&] { return store.held_.load() == 1; }));
    writers.Start(1000, 64);  // not held back by the first
    ASSERT_TRUE(testing::Eventually([&] { return store.held_.load() == 2; }));
    for (uint64_t i = 0; i < 7; ++i) writers.Start(100 + i, 1);
    ASSERT_TRUE(testing::Eventually([&] { return gc.waiting() == 7; }));
    EXPECT_EQ(gc.batches(), 0u);
  }
  EXPECT_EQ(store.items_, 72u);
  EXPECT_EQ(gc.batches(), 9u);
  EXPECT_EQ(gc.writes(), 3u);  // the two held ones, then one for all seven
  EXPECT_EQ(store.writes_, 3);
}

// Small writers that add up to a large group start it beside the write in flight.
TEST(GroupCommit, SmallWritersThatAddUpStartASecondWrite) {
  CountingStore store(2);
  GroupCommitter gc(store, true);
  {
    Writers writers(gc, store);
    writers.Start(1, 1);
    ASSERT_TRUE(testing::Eventually([&] { return store.held_.load() == 1; }));
    for (uint64_t i = 0; i < 8; ++i) writers.Start(100 + 10 * i, 8);
    ASSERT_TRUE(testing::Eventually([&] { return store.held_.load() == 2; }));
  }
  EXPECT_EQ(store.items_, 65u);
  EXPECT_EQ(gc.batches(), 9u);
  EXPECT_EQ(gc.writes(), 2u);
}

TEST(GroupCommit, EveryMemberOfAGroupGetsItsFailureAndItsOwnItemsBack) {
  CountingStore store(2);  // the first two writes are held, so the others queue into a group
  store.fail_ = true;
  GroupCommitter gc(store, true);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::atomic<int> own_items_back{0};
  auto writer = [&](uint64_t id, size_t items) {
    StoreBatch b;
    for (size_t k = 0; k < items; ++k) b.Absorb(*std::make_unique<StoreBatch>(OneInsert(id)));
    b.Apply(Transition{.id = CommandId(id), .from = State::kPending, .to = State::kRunning});
    if (gc.Commit(b).code() == StatusCode::kIoError) ++failures;
    // A failed write leaves the batch as it was, ready for a retry.
    bool own = b.inserts().size() == items && b.transitions().size() == 1 &&
               b.transitions()[0].id == CommandId(id);
    for (const auto& r : b.inserts()) own = own && r.command->id == CommandId(id);
    if (own) ++own_items_back;
  };
  threads.emplace_back(writer, 1, 1);
  ASSERT_TRUE(testing::Eventually([&] { return store.held_.load() == 1; }));
  threads.emplace_back(writer, 2, 64);  // large enough to be written beside the first
  ASSERT_TRUE(testing::Eventually([&] { return store.held_.load() == 2; }));
  for (int i = 0; i < 7; ++i) threads.emplace_back(writer, 10 + i, 1 + i % 3);
  // All seven queue behind the held writes, so they form one group (EXPECT: on a
  // failure the threads are still let go and joined).
  EXPECT_TRUE(testing::Eventually([&] { return gc.waiting() == 7; }));
  store.release_.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 9);
  EXPECT_EQ(own_items_back.load(), 9);
}

TEST(GroupCommit, HammerLosesNoItem) {
  CountingStore store(0);
  GroupCommitter gc(store, true);
  const int per_thread = static_cast<int>(testing::Scaled(20'000, 1000));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        StoreBatch b = OneInsert(uint64_t(t) * 1'000'000 + i + 1);
        ASSERT_TRUE(gc.Commit(b).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(store.items_, size_t(4 * per_thread));
  EXPECT_EQ(gc.batches(), uint64_t(4 * per_thread));
  EXPECT_LE(gc.writes(), gc.batches());
}

}  // namespace
}  // namespace cmdq::engine
