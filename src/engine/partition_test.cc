#include "engine/partition.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace cmdq::engine {
namespace {

class PartitionTest : public ::testing::Test {
 protected:
  PartitionTest() {
    ordered_.name = "o";
    unordered_.name = "u";
    unordered_.options.ordered = false;
    parking_.name = "p";
    parking_.options.park_key_on_dead = true;
  }

  Task* NewTask(uint64_t id, std::string key, TypeEntry* type, int64_t due_us = 0) {
    auto cmd = std::make_shared<Command>();
    cmd->id = CommandId(id);
    cmd->key = std::move(key);
    auto* t = new Task{.command = cmd, .type = type, .due_us = due_us};
    if (due_us > 0) t->state = State::kScheduled;
    return t;
  }

  // Pops everything ready now in `p`, finishing each task (as a successful run would).
  static std::vector<uint64_t> RunAll(Partition& p) {
    std::vector<uint64_t> ran;
    while (Task* t = p.PopReady()) {
      ran.push_back(t->id().value());
      p.Finish(t);
      delete t;
    }
    return ran;
  }
  std::vector<uint64_t> RunAll() { return RunAll(p_); }

  Partition p_{0};
  TypeEntry ordered_;
  TypeEntry unordered_;
  TypeEntry parking_;
};

TEST_F(PartitionTest, RunsOneKeyInSubmitOrderOneAtATime) {
  p_.PushTask(NewTask(1, "a", &ordered_));
  p_.PushTask(NewTask(2, "a", &ordered_));
  p_.PushTask(NewTask(3, "b", &ordered_));
  p_.DrainInbox(100);
  Task* first = p_.PopReady();
  ASSERT_EQ(first->id().value(), 1u);
  Task* second = p_.PopReady();
  ASSERT_EQ(second->id().value(), 3u);  // key b; a's second waits for a's first
  EXPECT_EQ(p_.PopReady(), nullptr);
  p_.Finish(first);
  delete first;
  p_.Finish(second);
  delete second;
  EXPECT_EQ(RunAll(), std::vector<uint64_t>{2});
}

TEST_F(PartitionTest, RetryWaitHoldsBackOnlyItsOwnKey) {
  p_.PushTask(NewTask(1, "a", &ordered_));
  p_.PushTask(NewTask(2, "a", &ordered_));
  p_.PushTask(NewTask(3, "b", &ordered_));
  p_.PushTask(NewTask(4, "b", &ordered_));
  p_.DrainInbox(100);
  Task* a1 = p_.PopReady();
  a1->state = State::kFailed;
  p_.WaitRetry(a1, 500);
  EXPECT_EQ(RunAll(), (std::vector<uint64_t>{3, 4}));  // b flows while a waits
  p_.ReleaseDue(499);
  EXPECT_FALSE(p_.HasReady());
  EXPECT_EQ(p_.next_due_us.load(), 500);
  p_.ReleaseDue(500);
  EXPECT_EQ(RunAll(), (std::vector<uint64_t>{1, 2}));  // a's retry first, then a's next
}

TEST_F(PartitionTest, ScheduledTaskJoinsItsKeyWhenDue) {
  p_.PushTask(NewTask(1, "a", &ordered_, /*due_us=*/1000));
  p_.PushTask(NewTask(2, "a", &ordered_));
  p_.DrainInbox(100);
  EXPECT_EQ(RunAll(), std::vector<uint64_t>{2});
  p_.ReleaseDue(1000);
  EXPECT_EQ(RunAll(), std::vector<uint64_t>{1});
}

TEST_F(PartitionTest, UnorderedTasksOfOneKeyAreAllReady) {
  p_.PushTask(NewTask(1, "a", &unordered_));
  p_.PushTask(NewTask(2, "a", &unordered_));
  p_.DrainInbox(100);
  Task* one = p_.PopReady();
  Task* two = p_.PopReady();
  ASSERT_NE(two, nullptr);
  p_.Finish(one);
  p_.Finish(two);
  delete one;
  delete two;
}

TEST_F(PartitionTest, ParkedDeadHeadHoldsItsKeyUntilUnparked) {
  p_.PushTask(NewTask(1, "a", &parking_));
  p_.PushTask(NewTask(2, "a", &parking_));
  p_.DrainInbox(100);
  Task* head = p_.PopReady();
  head->state = State::kDead;
  p_.Park(head);
  EXPECT_FALSE(p_.HasReady());
  EXPECT_EQ(p_.Unpark(CommandId(2), "a"), nullptr);  // not the parked one
  EXPECT_EQ(p_.Unpark(CommandId(1), "a"), head);
  EXPECT_EQ(RunAll(), (std::vector<uint64_t>{1, 2}));
}

// Keys that went idle are swept once there are many; a parked key and a key with
// queued tasks must come through every sweep as they were, among thousands erased.
TEST_F(PartitionTest, SweepingIdleKeysKeepsParkedAndBusyKeys) {
  p_.PushTask(NewTask(1, "parked", &parking_));
  p_.PushTask(NewTask(2, "parked", &parking_));
  p_.PushTask(NewTask(3, "busy", &ordered_));
  p_.PushTask(NewTask(4, "busy", &ordered_));
  p_.DrainInbox(100);
  Task* parked_head = p_.PopReady();
  ASSERT_EQ(parked_head->id().value(), 1u);
  parked_head->state = State::kDead;
  p_.Park(parked_head);
  Task* busy_head = p_.PopReady();
  ASSERT_EQ(busy_head->id().value(), 3u);  // running: its key holds task 4

  // Three sweeps' worth of keys that run once and go idle.
  uint64_t id = 100;
  for (int i = 0; i < 3 * 4097; ++i, ++id) {
    p_.PushTask(NewTask(id, "idle-" + std::to_string(i), &ordered_));
    p_.DrainInbox(100);
    ASSERT_EQ(RunAll(), std::vector<uint64_t>{id});
  }

  p_.Finish(busy_head);
  delete busy_head;
  EXPECT_EQ(RunAll(), std::vector<uint64_t>{4});
  EXPECT_EQ(p_.Unpark(CommandId(1), "parked"), parked_head);
  EXPECT_EQ(RunAll(), (std::vector<uint64_t>{1, 2}));
  // A swept key comes back as a new one.
  p_.PushTask(NewTask(id, "idle-0", &ordered_));
  p_.DrainInbox(100);
  EXPECT_EQ(RunAll(), std::vector<uint64_t>{id});
}

// Keys whose hashes are equal share a slot of the key map, never a queue: each keeps its
// own order, a parked one holds back only itself, and sweeping idle ones keeps the rest.
TEST_F(PartitionTest, KeysWithEqualHashesKeepTheirOwnQueues) {
  Partition p(0, [](std::string_view) { return uint64_t{42}; });  // every key collides
  auto push = [&](uint64_t id, const char* key, TypeEntry* type) {
    p.PushTask(NewTask(id, key, type));
  };
  push(1, "a", &parking_);
  push(2, "a", &parking_);
  push(3, "b", &ordered_);
  push(4, "b", &ordered_);
  push(5, "c", &ordered_);
  p.DrainInbox(100);
  Task* a1 = p.PopReady();
  ASSERT_EQ(a1->id().value(), 1u);
  a1->state = State::kDead;
  p.Park(a1);  // "a" is held; "b" and "c" are not
  EXPECT_EQ(RunAll(p), (std::vector<uint64_t>{3, 5, 4}));
  // Enough idle keys to sweep: "a" (parked) must survive among them.
  for (uint64_t id = 100; id < 100 + 4200; ++id) {
    p.PushTask(NewTask(id, "idle-" + std::to_string(id), &ordered_));
    p.DrainInbox(100);
    ASSERT_EQ(RunAll(p), std::vector<uint64_t>{id});
  }
  EXPECT_EQ(p.Unpark(CommandId(1), "b"), nullptr);  // not b's
  EXPECT_EQ(p.Unpark(CommandId(1), "a"), a1);
  EXPECT_EQ(RunAll(p), (std::vector<uint64_t>{1, 2}));
}

TEST_F(PartitionTest, RemoveTakesWaitingTasksFromEveryPlace) {
  p_.PushTask(NewTask(1, "a", &ordered_));
  p_.PushTask(NewTask(2, "a", &ordered_));
  p_.PushTask(NewTask(3, "a", &ordered_));
  p_.PushTask(NewTask(4, "b", &ordered_, /*due_us=*/5000));
  p_.PushTask(NewTask(5, "c", &unordered_));
  p_.DrainInbox(100);
  for (uint64_t id : {2, 4, 5, 1}) {
    const char* key = id == 4 ? "b" : id == 5 ? "c" : "a";
    Task* t = p_.Remove(CommandId(id), key, id != 5);
    ASSERT_NE(t, nullptr) << id;
    EXPECT_EQ(t->id().value(), id);
    delete t;
  }
  EXPECT_EQ(p_.Remove(CommandId(99), "a", true), nullptr);
  EXPECT_EQ(p_.next_due_us.load(), INT64_MAX);
  EXPECT_EQ(RunAll(), std::vector<uint64_t>{3});
}

TEST_F(PartitionTest, RemoveOfARetryWaitingHeadUnblocksTheKey) {
  p_.PushTask(NewTask(1, "a", &ordered_));
  p_.PushTask(NewTask(2, "a", &ordered_));
  p_.DrainInbox(100);
  Task* a1 = p_.PopReady();
  a1->state = State::kFailed;
  p_.WaitRetry(a1, 500);
  EXPECT_EQ(p_.Remove(CommandId(1), "a", true), a1);
  delete a1;
  EXPECT_EQ(RunAll(), std::vector<uint64_t>{2});
}

TEST_F(PartitionTest, RecoveredRetryWaitStillHoldsBackItsKey) {
  Task* failed = NewTask(1, "a", &ordered_);
  failed->state = State::kFailed;
  failed->due_us = 500;
  p_.PushTask(failed);
  p_.PushTask(NewTask(2, "a", &ordered_));
  p_.PushTask(NewTask(3, "b", &ordered_));
  p_.DrainInbox(100);
  EXPECT_EQ(RunAll(), std::vector<uint64_t>{3});
  p_.ReleaseDue(500);
  EXPECT_EQ(RunAll(), (std::vector<uint64_t>{1, 2}));
}

TEST_F(PartitionTest, TakeAllReturnsEveryHeldTaskOnce) {
  p_.PushTask(NewTask(1, "a", &ordered_));
  p_.PushTask(NewTask(2, "a", &ordered_));
  p_.PushTask(NewTask(3, "b", &ordered_, 9000));
  p_.DrainInbox(100);
  p_.PushTask(NewTask(4, "z", &unordered_));  // still in the inbox
  std::vector<Task*> all = p_.TakeAll();
  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i]->id().value(), i + 1);
    delete all[i];
  }
  EXPECT_FALSE(p_.HasReady());
}

// A producer that offers a partition's heads on its own thread (an event loop) leaves
// cancels and re-drives, which may write to the store, to the next owner: a worker.
TEST_F(PartitionTest, ControlsLeftInTheInboxWaitForTheNextDrain) {
  int ran = 0;
  p_.PushTask(NewTask(1, "a", &ordered_));
  p_.PushControl({[&] { ++ran; }});
  p_.DrainInbox(100, /*run_controls=*/false);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(RunAll(), std::vector<uint64_t>{1});  // the tasks came in
  EXPECT_FALSE(p_.InboxEmpty());                  // so the partition is scheduled again
  EXPECT_TRUE(p_.HasIncoming(100));
  p_.DrainInbox(100);
  EXPECT_EQ(ran, 1);
  EXPECT_TRUE(p_.InboxEmpty());
}

}  // namespace
}  // namespace cmdq::engine
