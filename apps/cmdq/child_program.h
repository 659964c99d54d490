// ChildProgram: runs one shell command as a child process with bytes on its standard
// input, and collects its standard output and the tail of its standard error: how
// `cmdq worker --exec` runs a command's program.
//
// The command runs under /bin/sh -c, so --exec takes what a shell takes (arguments,
// quotes, pipes). Input, output and error flow through pipes polled by the calling thread,
// which also calls `on_tick` every `tick` while the program runs (the worker heartbeats
// its lease there). Thread-compatible: each call stands alone; SIGPIPE must be ignored by
// the process (a program that exits without reading its input must not kill the worker).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::app {

struct ProgramLimits {
  size_t max_output_bytes = 1 << 20;  // more standard output is an error (the API's limit)
  size_t error_tail_bytes = 4 << 10;  // the end of standard error that is kept
};

struct ProgramRun {
  int exit_code = 0;  // valid when signal == 0
  int signal = 0;     // the signal that ended it, or 0
  bool output_too_large = false;
  std::string output;      // standard output, up to max_output_bytes
  std::string error_tail;  // the last error_tail_bytes of standard error
  bool succeeded() const { return signal == 0 && exit_code == 0 && !output_too_large; }
};

// kIoError when the pipes or the child cannot be made. A program that fails is not an
// error here: its ProgramRun says how it ended.
Result<ProgramRun> RunProgram(const std::string& shell_command, std::string_view input,
                              const ProgramLimits& limits, std::chrono::milliseconds tick,
                              const std::function<void()>& on_tick);

}  // namespace cmdq::app
