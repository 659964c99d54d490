// Kill -9 of a durable bus under load loses no acknowledged command (DESIGN.md §2;
// WORKLOADS.md W4).
//
// Rounds: start cmdq_crash_child on one data directory, let it submit for a random
// 100–600 ms after it is ready, SIGKILL it, and keep every id it printed (acknowledged).
// Then a --drain run finishes what is left, and the test opens the store itself: each
// acknowledged id must be there and succeeded, and nothing may be left unfinished. The
// child's execution log says how often each command ran: at least once for every
// acknowledged one; more than once is allowed (at-least-once) and reported.
//
// CMDQ_CRASH_SEED=N repeats a run's kill times (the child's own timing still varies).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "child_process.h"
#include "cmdq/command_id.h"
#include "cmdq/rocksdb_store.h"
#include "common/temp_dir.h"

namespace cmdq {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TempDir;

constexpr int kRounds = 8;

uint64_t Seed() {
  if (const char* s = std::getenv("CMDQ_CRASH_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

struct RoundTally {
  uint64_t acked = 0;
  bool ready = false;
  bool killed = false;  // died of our SIGKILL, not of something else
};

// One round: start the child, wait for "ready", let it run `run_for`, kill it, and add
// every id it printed to `acked`.
RoundTally KillRound(const std::vector<std::string>& args, std::chrono::milliseconds run_for,
                     std::unordered_set<uint64_t>& acked) {
  RoundTally tally;
  auto child = ChildProcess::Spawn(CMDQ_CRASH_CHILD, args);
  if (!child) {
    ADD_FAILURE() << child.error().ToString();
    return tally;
  }
  auto on_line = [&](std::string_view line) {
    if (line == "ready") {
      tally.ready = true;
      return false;  // the clock of the round starts now
    }
    auto id = CommandId::Parse(line);
    EXPECT_TRUE(id.has_value()) << "unexpected line from the child: " << line;
    if (id && acked.insert(id->value()).second) ++tally.acked;
    return true;
  };
  // Opening the store replays the log of the killed run; give that time.
  (*child)->ReadLines(ChildProcess::Clock::now() + 30s, on_line);
  if (!tally.ready) return tally;
  (*child)->ReadLines(ChildProcess::Clock::now() + run_for, on_line);
  (*child)->Kill();
  // What the child wrote before it died is still in the pipe: read up to end of file.
  while ((*child)->ReadLines(ChildProcess::Clock::now() + 10s, on_line)) {
  }
  const int status = (*child)->Wait(10s);
  tally.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  return tally;
}

// Executions per command id, from the child's log (one 16-hex-digit line per execution).
std::unordered_map<uint64_t, uint32_t> ReadExecutions(const std::string& path) {
  std::unordered_map<uint64_t, uint32_t> runs;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (auto id = CommandId::Parse(line)) ++runs[id->value()];
  }
  return runs;
}

TEST(Crash, KilledDurableBusLosesNoAcknowledgedCommand) {
  TempDir dir("cmdq-crash");
  ASSERT_FALSE(dir.path().empty());
  const std::string data = dir.path() + "/data";
  const std::string log = dir.path() + "/executions.log";
  const std::vector<std::string> args = {"--data-dir", data, "--log", log};
  const uint64_t seed = Seed();
  std::printf("[ crash    ] seed %llu (CMDQ_CRASH_SEED repeats it)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 random(seed);

  std::unordered_set<uint64_t> acked;
  for (int round = 0; round < kRounds; ++round) {
    const auto run_for = std::chrono::milliseconds(100 + random() % 501);
    const RoundTally t = KillRound(args, run_for, acked);
    std::printf("[ crash    ] round %d: killed after %lld ms, %llu acknowledged\n", round,
                static_cast<long long>(run_for.count()), static_cast<unsigned long long>(t.acked));
    ASSERT_TRUE(t.ready) << "round " << round << ": the child did not start";
    ASSERT_TRUE(t.killed) << "round " << round << ": the child died before the kill";
  }
  ASSERT_GT(acked.size(), 0u);

  // Finish what the last kill left; the child exits 0 once nothing is unfinished. The
  // allowance is generous: a backlog of ~40k commands drains in a few seconds, but much
  // slower on a loaded machine or when the engine falls back to a synced write per run.
  {
    const auto started = ChildProcess::Clock::now();
    auto drain_args = args;
    drain_args.insert(drain_args.end(), {"--drain", "--max-seconds", "120"});
    auto child = ChildProcess::Spawn(CMDQ_CRASH_CHILD, drain_args);
    ASSERT_TRUE(child.has_value()) << child.error().ToString();
    while ((*child)->ReadLines(ChildProcess::Clock::now() + 130s,
                               [](std::string_view) { return true; })) {
    }
    const int status = (*child)->Wait(130s);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "drain run status " << status;
    std::printf("[ crash    ] drained in %lld ms\n",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           ChildProcess::Clock::now() - started)
                                           .count()));
  }

  auto store = OpenRocksDbStore({.path = data, .create_if_missing = false});
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  uint64_t lost = 0;
  uint64_t not_succeeded = 0;
  for (uint64_t id : acked) {
    auto rec = (*store)->Get(CommandId(id));
    if (!rec) {
      if (++lost <= 5)
        ADD_FAILURE() << "lost " << CommandId(id).ToString() << ": " << rec.error().ToString();
    } else if (rec->state != State::kSucceeded) {
      if (++not_succeeded <= 5) {
        ADD_FAILURE() << CommandId(id).ToString() << " is " << StateName(rec->state);
      }
    }
  }
  auto unfinished = (*store)->Unfinished();
  ASSERT_TRUE(unfinished.has_value()) << unfinished.error().ToString();
  EXPECT_EQ(unfinished->size(), 0u);
  // The type index lists every acknowledged command, newest first, once: the kills fell
  // before, during and after the checkpoints that write it (docs/storage.md).
  std::vector<uint64_t> listed;
  ListQuery by_type{.type = std::string("crash.log"), .limit = 1000};
  for (;;) {
    auto page = (*store)->List(by_type);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    for (const Record& r : page->records) listed.push_back(r.command.id.value());
    if (!page->next_cursor.valid()) break;
    by_type.before = page->next_cursor;
  }
  EXPECT_TRUE(std::is_sorted(listed.rbegin(), listed.rend()));
  EXPECT_EQ(std::set<uint64_t>(listed.begin(), listed.end()).size(), listed.size());
  uint64_t unlisted = 0;
  for (uint64_t id : acked) {
    if (!std::binary_search(listed.rbegin(), listed.rend(), id)) ++unlisted;
  }
  EXPECT_EQ(unlisted, 0u) << "acknowledged commands missing from List by type";

  const auto runs = ReadExecutions(log);
  uint64_t never_ran = 0;
  uint64_t ran_twice = 0;  // commands (acknowledged or not) run more than once
  uint64_t extra_runs = 0;
  for (uint64_t id : acked) {
    if (!runs.contains(id)) ++never_ran;
  }
  for (const auto& [id, n] : runs) {
    if (n > 1) {
      ++ran_twice;
      extra_runs += n - 1;
    }
  }
  std::printf(
      "[ crash    ] %zu acknowledged, %llu lost, %llu not succeeded, %llu never executed; "
      "%zu executed, %llu more than once (%llu extra executions)\n",
      acked.size(), static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(not_succeeded), static_cast<unsigned long long>(never_ran),
      runs.size(), static_cast<unsigned long long>(ran_twice),
      static_cast<unsigned long long>(extra_runs));
  RecordProperty("acknowledged", static_cast<int>(acked.size()));
  RecordProperty("lost", static_cast<int>(lost));
  RecordProperty("executed_more_than_once", static_cast<int>(ran_twice));
  RecordProperty("extra_executions", static_cast<int>(extra_runs));
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(not_succeeded, 0u);
  EXPECT_EQ(never_ran, 0u);
}

}  // namespace
}  // namespace cmdq
