// The client library against a real `cmdq serve`: submit, batch, get, wait, list with a
// cursor, audit, idempotency, and the worker API (lease, complete, fail, batches).
#include <gtest/gtest.h>

#include "e2e/client_e2e_support.h"

namespace cmdq::testing {
namespace {

using std::chrono::milliseconds;

constexpr char kRemote[] = "e2e.remote";

class ClientE2e : public ServedSuite {
 protected:
  static void SetUpTestSuite() { StartServer({kRemote}); }
  static void TearDownTestSuite() { StopServer(); }

  static Command Echo(std::string key, std::string json) {
    return {.type = "cmdq.echo",
            .key = std::move(key),
            .payload = std::move(json),
            .payload_is_json = true};
  }
};

TEST_F(ClientE2e, SubmitThenWaitGivesTheResult) {
  auto id = client_->Submit(Echo("c-user-1", R"({"a":1})"));
  ASSERT_TRUE(id) << id.error().ToString();
  auto record = client_->Wait(*id, milliseconds(5000));
  ASSERT_TRUE(record) << record.error().ToString();
  EXPECT_EQ(record->state, State::kSucceeded);
  EXPECT_EQ(record->result, R"({"a":1})");
  auto got = client_->Get(*id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->command.key, "c-user-1");
}

TEST_F(ClientE2e, SubmitAndWaitReturnsTheFinishedRecord) {
  auto record = client_->SubmitAndWait(Echo("c-user-2", "[1,2]"), milliseconds(5000));
  ASSERT_TRUE(record) << record.error().ToString();
  EXPECT_EQ(record->state, State::kSucceeded);
  EXPECT_EQ(record->result, "[1,2]");
}

TEST_F(ClientE2e, ABatchAnswersPerCommand) {
  std::vector<Command> batch = {
      Echo("c-batch", "1"), {.type = "no.such.type", .key = "k"}, Echo("c-batch", "3")};
  auto results = client_->SubmitBatch(batch);
  ASSERT_TRUE(results) << results.error().ToString();
  ASSERT_EQ(results->size(), 3u);
  EXPECT_TRUE((*results)[0]);
  ASSERT_FALSE((*results)[1]);
  EXPECT_EQ((*results)[1].error().field(), "type");
  EXPECT_TRUE((*results)[2]);
}

TEST_F(ClientE2e, TheSameIdempotencyKeyGivesTheSameCommand) {
  Command c = Echo("c-idem", "{}");
  c.idempotency_key = "e2e-idem-1";
  auto first = client_->Submit(c);
  auto second = client_->Submit(c);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, *second);
}

TEST_F(ClientE2e, ListPagesWithACursorAndAuditShowsTheTransitions) {
  std::vector<CommandId> ids;
  for (int i = 0; i < 3; ++i) {
    auto id = client_->Submit(Echo("c-list", std::to_string(i)));
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  ASSERT_TRUE(client_->Wait(ids.back(), milliseconds(5000)));
  auto page = client_->List({.key = "c-list", .limit = 2});
  ASSERT_TRUE(page) << page.error().ToString();
  ASSERT_EQ(page->records.size(), 2u);
  EXPECT_EQ(page->records[0].command.id, ids[2]);  // newest first
  ASSERT_TRUE(page->next_cursor.valid());
  auto rest = client_->List({.key = "c-list", .before = page->next_cursor, .limit = 2});
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->records.size(), 1u);
  EXPECT_EQ(rest->records[0].command.id, ids[0]);
  auto audit = client_->Audit(ids[0]);
  ASSERT_TRUE(audit) << audit.error().ToString();
  ASSERT_GE(audit->size(), 3u);
  EXPECT_EQ(audit->front().to, State::kPending);
  EXPECT_EQ(audit->back().to, State::kSucceeded);
}

TEST_F(ClientE2e, AnUnknownCommandIsNotFound) {
  auto record = client_->Get(CommandId(0x0000000000000abc));
  ASSERT_FALSE(record);
  EXPECT_EQ(record.error().code(), StatusCode::kNotFound);
}

TEST_F(ClientE2e, ARemoteWorkerLeasesAndCompletes) {
  auto id = client_->Submit(
      {.type = kRemote, .key = "c-remote", .payload = R"({"n":7})", .payload_is_json = true});
  ASSERT_TRUE(id) << id.error().ToString();
  auto leased = client_->Lease(
      {.types = {kRemote}, .max = 10, .wait = milliseconds(2000), .worker = "e2e-worker"});
  ASSERT_TRUE(leased) << leased.error().ToString();
  ASSERT_EQ(leased->size(), 1u);
  const LeasedCommand& command = (*leased)[0];
  EXPECT_EQ(command.record.command.id, *id);
  EXPECT_EQ(command.record.command.payload, R"({"n":7})");
  EXPECT_EQ(command.record.attempt, 1u);
  EXPECT_TRUE(client_->Heartbeat(command.lease, milliseconds(0)).ok());
  ASSERT_TRUE(client_->Complete(command, R"({"ok":true})").ok());
  auto record = client_->Wait(*id, milliseconds(5000));
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, State::kSucceeded);
  EXPECT_EQ(record->result, R"({"ok":true})");
  EXPECT_EQ(record->lease_worker, "");
}

TEST_F(ClientE2e, OutcomesInABatchAnswerEachAndAStaleLeaseIsRefused) {
  std::vector<CommandId> ids;
  for (int i = 0; i < 2; ++i) {
    auto id = client_->Submit({.type = kRemote, .key = "c-remote-batch-" + std::to_string(i)});
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  std::vector<LeasedCommand> leased;
  while (leased.size() < 2) {
    auto more = client_->Lease(
        {.types = {kRemote}, .max = 2, .wait = milliseconds(2000), .worker = "e2e-batch"});
    ASSERT_TRUE(more && !more->empty());
    for (LeasedCommand& l : *more) leased.push_back(std::move(l));
  }
  std::vector<WorkerOutcome> outcomes = {
      {.id = leased[0].record.command.id, .lease = leased[0].lease, .result = "done"},
      {.id = leased[1].record.command.id, .lease = "not-the-lease", .result = "x"}};
  auto results = client_->ReportBatch(outcomes);
  ASSERT_TRUE(results) << results.error().ToString();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_TRUE((*results)[0].ok()) << (*results)[0].ToString();
  EXPECT_FALSE((*results)[1].ok());
  ASSERT_TRUE(client_->Fail(leased[1], "gave up", /*retryable=*/false).ok());
  auto dead = client_->Wait(leased[1].record.command.id, milliseconds(5000));
  ASSERT_TRUE(dead);
  EXPECT_EQ(dead->state, State::kDead);
  EXPECT_EQ(dead->error, "gave up");
}

// One request per batch: the outcomes of one lease and the lease of the next. The lease
// comes after the outcomes are stored, so a key's next command is leased at once.
TEST_F(ClientE2e, AWorkerLoopReportsAndLeasesInOneRequest) {
  std::vector<CommandId> ids;
  for (int i = 0; i < 3; ++i) {
    auto id = client_->Submit(
        {.type = kRemote, .key = "c-loop", .payload = std::to_string(i), .payload_is_json = true});
    ASSERT_TRUE(id) << id.error().ToString();
    ids.push_back(*id);
  }
  LeaseOptions next{.types = {kRemote}, .max = 10, .worker = "e2e-loop"};
  std::vector<WorkerOutcome> outcomes;
  std::vector<CommandId> ran;
  for (int round = 0; round < 4; ++round) {
    next.wait = milliseconds(round < 3 ? 2000 : 0);  // the last reports and finds none
    auto answer = client_->ReportBatchAndLease(outcomes, next);
    ASSERT_TRUE(answer) << answer.error().ToString();
    ASSERT_EQ(answer->outcomes.size(), outcomes.size());
    for (const Status& s : answer->outcomes) EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(answer->lease.ok()) << answer->lease.ToString();
    outcomes.clear();
    // Per-key order: one command of the key at a time.
    for (const LeasedCommand& l : answer->leased) {
      ran.push_back(l.record.command.id);
      outcomes.push_back(
          {.id = l.record.command.id, .lease = l.lease, .result = "r" + l.record.command.payload});
    }
    EXPECT_EQ(answer->leased.size(), round < 3 ? 1u : 0u) << "round " << round;
  }
  EXPECT_EQ(ran, ids);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto record = client_->Get(ids[i]);
    ASSERT_TRUE(record) << record.error().ToString();
    EXPECT_EQ(record->state, State::kSucceeded);
    EXPECT_EQ(record->result, "r" + std::to_string(i));
  }
  // A lease that fails leaves the outcomes stored and says why.
  auto refused =
      client_->ReportBatchAndLease({}, {.types = {"no.such.type"}, .max = 1, .worker = "e2e-loop"});
  ASSERT_TRUE(refused) << refused.error().ToString();
  EXPECT_FALSE(refused->lease.ok());
  EXPECT_TRUE(refused->leased.empty());
}

}  // namespace
}  // namespace cmdq::testing
