// `cmdq demo`: an in-process simulation of the first two scale tiers of DESIGN.md §1.
//   T1: the bus in sync mode; each simulated user's command runs in the sending thread.
//   T2: the bus in async mode; submits return at once, workers run the commands.
// A live line shows rate, p50/p99 submit->done, queue depth, retries and dead commands;
// a summary table per tier and the audit trail of one retried command end the run.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cmdq::app {

struct DemoOptions {
  size_t users = 1000;  // simulated users, each sending 1 command per simulated second
  double speed = 10;    // time compression: 10 = each user sends 10 commands per second
  double seconds = 10;  // real seconds each tier sends for
  std::vector<std::string> tiers = {"t1", "t2"};
  // T2 worker threads, more than cores: the slow commands sleep like handlers waiting on
  // I/O, and 15% of 10k/s sleeping ~3 ms each keep ~4.5 workers blocked.
  uint32_t workers = 16;
  int sync_senders = 32;  // T1 sending threads (each waits for its handlers, sleeps too)
};

CLI::App* AddDemoCommand(CLI::App& app, DemoOptions& options);
// Returns the exit code: 0 when every tier ran, 1 when a bus could not be set up.
int RunDemo(const DemoOptions& options);

}  // namespace cmdq::app
