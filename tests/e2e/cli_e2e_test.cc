// The CLI against a real `cmdq serve`: output, --json, and the exit codes of docs/cli.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "e2e/client_e2e_support.h"

namespace cmdq::testing {
namespace {

class CliE2e : public ServedSuite {
 protected:
  static void SetUpTestSuite() { StartServer({}); }
  static void TearDownTestSuite() { StopServer(); }

  static CliRun Cmdq(const std::string& args) {
    return RunCmdq(args + " --target " + server().target());
  }
};

// The number after `"name": ` in a bench's JSON line; NaN when it is not there.
double JsonNumber(const std::string& json, const std::string& name) {
  const std::string tag = "\"" + name + "\": ";
  const size_t at = json.find(tag);
  if (at == std::string::npos) return std::nan("");
  return std::strtod(json.c_str() + at + tag.size(), nullptr);
}

// A batch far bigger than --queue-capacity is still taken whole: the submit waits on the
// blocking pool for the workers to make room, and every command runs. With room for 2,
// the 10th of one key's 20 ms commands gets in only after 8 have run: the answer takes
// at least 160 ms (a lower bound only; a slow machine just takes longer).
TEST(CliServe, ABatchBiggerThanTheQueueBoundWaitsForRoomAndRuns) {
  auto served = ServedCmdq::Start({}, {"--durability", "none", "--queue-capacity", "2"});
  ASSERT_TRUE(served) << served.error().ToString();
  auto client = (*served)->NewClient();
  std::vector<Command> batch;
  for (int i = 0; i < 10; ++i) {
    Command c;
    c.type = "cmdq.sleep";
    c.key = "bound";
    c.payload = R"({"ms":20})";
    c.payload_is_json = true;
    batch.push_back(std::move(c));
  }
  const auto start = std::chrono::steady_clock::now();
  auto results = client->SubmitBatch(std::move(batch));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(results) << results.error().ToString();
  ASSERT_EQ(results->size(), 10u);
  EXPECT_GE(took, std::chrono::milliseconds(150));
  for (const auto& r : *results) {
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    auto done = client->Wait(*r, std::chrono::seconds(10));
    ASSERT_TRUE(done) << done.error().ToString();
    EXPECT_EQ(done->state, State::kSucceeded);
  }
}

TEST(CliBench, W0SyncReportsTheBusTheDirectCallAndTheKeepingFloor) {
  CliRun run = RunCmdq("bench --workload W0.sync --commands 5000 --rounds 1 --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(JsonNumber(run.output, "submit_errors"), 0) << run.output;
  const double bus = JsonNumber(run.output, "ns_per_command");
  const double direct = JsonNumber(run.output, "baseline_ns_per_call");
  const double floor = JsonNumber(run.output, "keeping_floor_ns_per_call");
  // Figures only, no timing asserted (a loaded machine may time anything): each is
  // there, and the ratio is the one its figures give.
  EXPECT_GT(bus, 0) << run.output;
  EXPECT_GT(direct, 0) << run.output;
  EXPECT_GT(floor, 0) << run.output;
  EXPECT_NEAR(JsonNumber(run.output, "keeping_floor_ratio"), floor / direct, 0.05 * floor / direct)
      << run.output;
}

TEST(CliBench, W0AsyncRunsEveryCommandOnceInKeyOrder) {
  CliRun run = RunCmdq("bench --workload W0.async --commands 20000 --producers 2 --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(JsonNumber(run.output, "handler_runs"), 20000) << run.output;
  EXPECT_EQ(JsonNumber(run.output, "lost"), 0) << run.output;
  EXPECT_EQ(JsonNumber(run.output, "order_violations"), 0) << run.output;
  EXPECT_EQ(JsonNumber(run.output, "submit_errors"), 0) << run.output;
  // The keeping floor runs beside the bus; its ratio is the one the two figures give.
  const double bus = JsonNumber(run.output, "throughput_per_s");
  const double floor = JsonNumber(run.output, "keeping_floor_per_s");
  EXPECT_GT(floor, 0) << run.output;
  EXPECT_NEAR(JsonNumber(run.output, "keeping_floor_ratio"), bus / floor, 0.05 * bus / floor)
      << run.output;
  // Some CPU, and no more than the cores could give over the run's wall time (plus the
  // last poll for completions): a unit slip (ns for µs) would be 1,000 times over.
  const double cpu_s = JsonNumber(run.output, "cpu_us_per_command") * 20000 / 1e6;
  EXPECT_GT(cpu_s, 0) << run.output;
  EXPECT_LE(cpu_s, (JsonNumber(run.output, "seconds") + 0.1) * JsonNumber(run.output, "cores"))
      << run.output;
  EXPECT_EQ(JsonNumber(run.output, "submit_batch"), 1) << run.output;
}

TEST(CliBench, W0AsyncSubmitsInBatchesWhenAsked) {
  // 20,001 over batches of 64: the last batch is short and must not be lost.
  CliRun run =
      RunCmdq("bench --workload W0.async --commands 20001 --producers 2 --submit-batch 64 --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(JsonNumber(run.output, "submit_batch"), 64) << run.output;
  EXPECT_EQ(JsonNumber(run.output, "handler_runs"), 20001) << run.output;
  EXPECT_EQ(JsonNumber(run.output, "lost"), 0) << run.output;
  EXPECT_EQ(JsonNumber(run.output, "order_violations"), 0) << run.output;
  EXPECT_EQ(JsonNumber(run.output, "submit_errors"), 0) << run.output;
}

TEST(CliBench, W0AsyncRefusesABatchOfZero) {
  CliRun run = RunCmdq("bench --workload W0.async --commands 100 --submit-batch 0 --json");
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("--submit-batch"), std::string::npos) << run.output;
}

TEST_F(CliE2e, SubmitPrintsTheIdAndGetShowsTheRecord) {
  CliRun submit = Cmdq("submit --type cmdq.echo --key cli-1 --payload '{\"x\":1}'");
  ASSERT_EQ(submit.exit_code, 0) << submit.output;
  const std::string id = submit.output.substr(0, 16);
  ASSERT_TRUE(CommandId::Parse(id)) << submit.output;
  CliRun get = Cmdq("get " + id + " --wait 5s");
  EXPECT_EQ(get.exit_code, 0) << get.output;
  EXPECT_NE(get.output.find("succeeded"), std::string::npos) << get.output;
  CliRun json = Cmdq("get " + id + " --json");
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_NE(json.output.find(R"("result":{"x":1})"), std::string::npos) << json.output;
  CliRun list = Cmdq("list --key cli-1");
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.output.find(id), std::string::npos) << list.output;
  CliRun audit = Cmdq("audit " + id);
  EXPECT_EQ(audit.exit_code, 0);
  EXPECT_NE(audit.output.find("running"), std::string::npos) << audit.output;
}

TEST_F(CliE2e, SubmitReadsThePayloadFromStandardInput) {
  CliRun run = RunCmdq("submit -t cmdq.echo -k cli-2 --payload-file - --wait 5s --json --target " +
                           server().target(),
                       "[1,2]");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find(R"("result":[1,2])"), std::string::npos) << run.output;
}

TEST_F(CliE2e, ExitCodesTellScriptsWhatHappened) {
  EXPECT_EQ(Cmdq("get 0000000000000abc").exit_code, 3);  // not found
  EXPECT_EQ(Cmdq("get not-an-id").exit_code, 2);         // usage
  EXPECT_EQ(Cmdq("submit --type no.such.type --key k").exit_code, 4) << "refused";
  // --payload must be JSON: refused before anything is sent, as bad usage.
  EXPECT_EQ(Cmdq("submit --type cmdq.echo --key k --payload 'not json'").exit_code, 2);
  // A command still running when --wait runs out: 6.
  CliRun slow =
      Cmdq("submit --type cmdq.sleep --key cli-slow --payload '{\"ms\":3000}' --wait 100ms");
  EXPECT_EQ(slow.exit_code, 6) << slow.output;
  // Ended, but not succeeded (dead at once: 1 attempt): 7.
  CliRun dead = Cmdq(
      "submit --type cmdq.fail --key cli-dead --payload '{\"times\":5}' --max-attempts 1 --wait "
      "5s");
  EXPECT_EQ(dead.exit_code, 7) << dead.output;
}

// A bench whose submits the server refuses outright stops at the first refusal with one
// clear error, instead of printing one per batch until its time runs out.
TEST_F(CliE2e, BenchStopsAtASubmitTheServerRefuses) {
  CliRun run = Cmdq("bench --workload W1.sat --transport http --batch 2000 --seconds 20 --json");
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("a batch holds at most 1000 commands"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("--batch"), std::string::npos) << run.output;
  EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;
}

// Open loop: what is offered is the rate times the seconds. Submitting one command per
// request, the producers fall behind that rate; they still send every command due before
// the stop (before, they stopped at the stop and the run offered fewer).
TEST(CliOwnServer, AnOpenLoopBenchOffersEveryCommandDueBeforeItsStop) {
  CliRun run = RunCmdq(
      "bench --workload W1.10k --rate 20001 --seconds 1 --batch 1 --transport http "
      "--durability none --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // 20,001 between 2 producers: 10,001 and 10,000.
  EXPECT_NE(run.output.find(R"("commands": 20001,)"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(R"("lost": 0,)"), std::string::npos) << run.output;
}

TEST(CliNoServer, AnUnreachableServerIsUnavailable) {
  // Port 9 (discard) on loopback: nothing listens there on a test machine.
  CliRun run = RunCmdq("get 0000000000000abc --target http://127.0.0.1:9");
  EXPECT_EQ(run.exit_code, 5) << run.output;
}

}  // namespace
}  // namespace cmdq::testing
