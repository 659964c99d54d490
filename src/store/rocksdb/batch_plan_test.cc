#include "store/rocksdb/batch_plan.h"

#include <gtest/gtest.h>

#include <map>

#include "store/rocksdb/test_dir.h"

namespace cmdq::rocksdb_store {
namespace {

using testing::MakeCommand;

// A stand-in for the stored state: ids to statuses.
struct Stored {
  std::map<CommandId, RecordStatus> records;
  ExistsFn exists() {
    return [this](CommandId id) -> Result<bool> { return records.contains(id); };
  }
  LookupFn lookup() {
    return [this](CommandId id) -> Result<std::optional<RecordStatus>> {
      auto it = records.find(id);
      if (it == records.end()) return std::nullopt;
      return it->second;
    };
  }
};

TEST(BatchPlan, CoalescesAnInsertAndItsTransitionsIntoOneRecord) {
  Stored stored;
  StoreBatch batch;
  batch.Insert(MakeCommand(1), State::kPending, 10);
  batch.Apply({.id = CommandId(1),
               .from = State::kPending,
               .to = State::kRunning,
               .time_us = 11,
               .attempt = 1,
               .worker = "w",
               .lease_expires_us = 99});
  batch.Apply({.id = CommandId(1),
               .from = State::kRunning,
               .to = State::kSucceeded,
               .time_us = 12,
               .attempt = 1,
               .worker = "w",
               .result = "ok"});
  auto plan = PlanBatch(batch, stored.exists(), stored.lookup());
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  ASSERT_EQ(plan->size(), 1u);
  const RecordStatus& st = (*plan)[0].status;
  EXPECT_NE((*plan)[0].inserted, nullptr);
  EXPECT_EQ(st.state, State::kSucceeded);
  EXPECT_EQ(st.result, "ok");
  EXPECT_EQ(st.lease_worker, "");  // released on leaving running
  EXPECT_EQ(st.updated_at_us, 12);
  ASSERT_EQ(st.audit.size(), 3u);
  EXPECT_EQ(st.audit[1].worker, "w");
  EXPECT_EQ(st.audit[2].sequence, 2u);
}

TEST(BatchPlan, RefusesWithTheRightCode) {
  Stored stored;
  stored.records[CommandId(5)] = RecordStatus{.state = State::kSucceeded};
  auto code = [&](StoreBatch b) {
    auto p = PlanBatch(b, stored.exists(), stored.lookup());
    return p ? StatusCode::kOk : p.error().code();
  };
  StoreBatch dup;
  dup.Insert(MakeCommand(5), State::kPending, 0);
  EXPECT_EQ(code(dup), StatusCode::kAlreadyExists);
  StoreBatch twice;
  twice.Insert(MakeCommand(6), State::kPending, 0);
  twice.Insert(MakeCommand(6), State::kPending, 0);
  EXPECT_EQ(code(twice), StatusCode::kAlreadyExists);
  StoreBatch missing;
  missing.Apply({.id = CommandId(7), .from = State::kPending, .to = State::kRunning});
  EXPECT_EQ(code(missing), StatusCode::kNotFound);
  StoreBatch wrong_from;
  wrong_from.Apply({.id = CommandId(5), .from = State::kPending, .to = State::kRunning});
  EXPECT_EQ(code(wrong_from), StatusCode::kFailedPrecondition);
  StoreBatch illegal;
  illegal.Apply({.id = CommandId(5), .from = State::kSucceeded, .to = State::kPending});
  EXPECT_EQ(code(illegal), StatusCode::kFailedPrecondition);
  StoreBatch running_insert;
  running_insert.Insert(MakeCommand(8), State::kRunning, 0);
  EXPECT_EQ(code(running_insert), StatusCode::kInvalidArgument);
  StoreBatch no_id;
  no_id.Insert(MakeCommand(0), State::kPending, 0);
  EXPECT_EQ(code(no_id), StatusCode::kInvalidArgument);
}

TEST(BatchPlan, FailedKeepsItsRetryTimeAndErrorAndOthersClearIt) {
  RecordStatus st{.state = State::kRunning, .attempt = 1, .lease_worker = "w"};
  ApplyTransition({.id = CommandId(1),
                   .from = State::kRunning,
                   .to = State::kFailed,
                   .attempt = 1,
                   .error = "boom",
                   .next_attempt_us = 500},
                  st);
  EXPECT_EQ(st.next_attempt_us, 500);
  EXPECT_EQ(st.error, "boom");
  ApplyTransition({.id = CommandId(1), .from = State::kFailed, .to = State::kPending, .attempt = 1},
                  st);
  EXPECT_EQ(st.next_attempt_us, 0);
  EXPECT_EQ(st.error, "boom");  // kept until a transition sets or clears it
}

}  // namespace
}  // namespace cmdq::rocksdb_store
