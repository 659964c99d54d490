#include "child_program.h"

#include <gtest/gtest.h>

#include <csignal>

namespace cmdq::app {
namespace {

using std::chrono::milliseconds;

Result<ProgramRun> RunShell(const std::string& command, std::string_view input = {},
                            ProgramLimits limits = {}) {
  std::signal(SIGPIPE, SIG_IGN);
  return RunProgram(command, input, limits, milliseconds(1000), [] {});
}

TEST(ChildProgram, CatEchoesItsInput) {
  const std::string big(300'000, 'x');  // larger than a pipe's buffer both ways
  auto run = RunShell("cat", big);
  ASSERT_TRUE(run);
  EXPECT_TRUE(run->succeeded());
  EXPECT_EQ(run->output, big);
}

TEST(ChildProgram, KeepsTheExitStatusAndTheTailOfStandardError) {
  auto run =
      RunShell("printf 'aaaaaaaaaaTAIL' >&2; exit 3", {}, ProgramLimits{.error_tail_bytes = 4});
  ASSERT_TRUE(run);
  EXPECT_FALSE(run->succeeded());
  EXPECT_EQ(run->exit_code, 3);
  EXPECT_EQ(run->error_tail, "TAIL");
}

TEST(ChildProgram, ReportsTheSignalThatEndedIt) {
  auto run = RunShell("kill -9 $$");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->signal, 9);
  EXPECT_FALSE(run->succeeded());
}

TEST(ChildProgram, AProgramThatIgnoresItsInputIsFine) {
  auto run = RunShell("echo done", std::string(1 << 20, 'y'));
  ASSERT_TRUE(run);
  EXPECT_EQ(run->output, "done\n");
}

TEST(ChildProgram, OutputOverTheLimitFails) {
  auto run = RunShell("head -c 5000 /dev/zero", {}, ProgramLimits{.max_output_bytes = 1000});
  ASSERT_TRUE(run);
  EXPECT_TRUE(run->output_too_large);
  EXPECT_FALSE(run->succeeded());
}

TEST(ChildProgram, TicksWhileTheProgramRuns) {
  int ticks = 0;
  auto run = RunProgram("sleep 0.25", {}, ProgramLimits{}, milliseconds(50), [&] { ++ticks; });
  ASSERT_TRUE(run);
  EXPECT_GE(ticks, 3);
}

}  // namespace
}  // namespace cmdq::app
