// ChildProcess: a program run by a test with its standard output on a pipe, read line by
// line with a deadline, and killed or waited for. The child inherits standard error, so
// what it says about a failure shows in the test's output.
// Not thread-safe: one test thread drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cmdq/status.h"

namespace cmdq::testing {

class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts `program` with `args` (without argv[0]).
  static Result<std::unique_ptr<ChildProcess>> Spawn(const std::string& program,
                                                     const std::vector<std::string>& args);
  ~ChildProcess();  // kills and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Calls `on_line` for each complete line (without '\n') read before `deadline`, until
  // `on_line` returns false. Returns true while the pipe is open, false at end of file
  // (the child closed its output or died); a line cut short by the child's death is
  // dropped.
  bool ReadLines(Clock::time_point deadline, const std::function<bool(std::string_view)>& on_line);
  // Sends SIGKILL.
  void Kill();
  // Sends SIGTERM: asks the child to stop as it would on a shutdown.
  void Terminate();
  // Reaps the child; its wait status (see WIFEXITED/WIFSIGNALED). Waits at most `timeout`,
  // then kills it; -1 if waitpid failed.
  int Wait(std::chrono::milliseconds timeout);

 private:
  ChildProcess(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}

  pid_t pid_;
  int out_fd_;
  bool reaped_ = false;
  std::string pending_;  // a partial line read so far
};

}  // namespace cmdq::testing
