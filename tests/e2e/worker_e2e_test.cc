// `cmdq worker` against a real `cmdq serve`: a program's output becomes the result, a
// failing program is retried and then dead, exit 65 is dead at once.
#include <gtest/gtest.h>

#include "e2e/client_e2e_support.h"

namespace cmdq::testing {
namespace {

using std::chrono::milliseconds;

class WorkerE2e : public ServedSuite {
 protected:
  static void SetUpTestSuite() { StartServer({"w.cat", "w.fail:backoff_ms=10", "w.permanent"}); }
  static void TearDownTestSuite() { StopServer(); }

  std::vector<CommandId> SubmitSome(const std::string& type, int n, uint32_t max_attempts = 0) {
    std::vector<CommandId> ids;
    for (int i = 0; i < n; ++i) {
      auto id = client_->Submit({.type = type,
                                 .key = type + std::to_string(i),
                                 .payload = "{\"i\":" + std::to_string(i) + "}",
                                 .payload_is_json = true,
                                 .max_attempts = max_attempts});
      EXPECT_TRUE(id);
      if (id) ids.push_back(*id);
    }
    return ids;
  }

  CliRun Worker(const std::string& type, const std::string& exec, int max) {
    return RunCmdq("worker --type " + type + " --exec " + ShellQuote(exec) + " --max " +
                   std::to_string(max) + " --poll 200ms --concurrency 2 --target " +
                   server().target());
  }
};

TEST_F(WorkerE2e, CatEchoesEachPayloadAsItsResult) {
  const std::vector<CommandId> ids = SubmitSome("w.cat", 3);
  CliRun worker = Worker("w.cat", "cat", 3);
  ASSERT_EQ(worker.exit_code, 0) << worker.output;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto record = client_->Wait(ids[i], milliseconds(5000));
    ASSERT_TRUE(record);
    EXPECT_EQ(record->state, State::kSucceeded);
    EXPECT_EQ(record->result, "{\"i\":" + std::to_string(i) + "}");
  }
}

TEST_F(WorkerE2e, AFailingProgramIsRetriedThenDead) {
  const std::vector<CommandId> ids = SubmitSome("w.fail", 1, /*max_attempts=*/2);
  CliRun worker = Worker("w.fail", "echo oops >&2; exit 3", 2);
  ASSERT_EQ(worker.exit_code, 0) << worker.output;
  auto record = client_->Wait(ids[0], milliseconds(5000));
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, State::kDead);
  EXPECT_EQ(record->attempt, 2u);
  EXPECT_NE(record->error.find("exit status 3: oops"), std::string::npos) << record->error;
}

TEST_F(WorkerE2e, ExitStatus65IsDeadAtOnce) {
  const std::vector<CommandId> ids = SubmitSome("w.permanent", 1, /*max_attempts=*/5);
  CliRun worker = Worker("w.permanent", "exit 65", 1);
  ASSERT_EQ(worker.exit_code, 0) << worker.output;
  auto record = client_->Wait(ids[0], milliseconds(5000));
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, State::kDead);
  EXPECT_EQ(record->attempt, 1u);
}

}  // namespace
}  // namespace cmdq::testing
