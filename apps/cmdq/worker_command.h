// `cmdq worker`: a ready remote worker. It leases commands of the given types from a
// server (long-poll), runs a program per command with the payload on standard input,
// and completes the command with the program's standard output, or fails it with the end
// of its standard error (docs/cli.md, "cmdq worker").
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "server_connection.h"

namespace cmdq::app {

struct WorkerOptions {
  ServerConnection connection;
  std::vector<std::string> types;  // required
  std::string exec;                // a shell command, run with /bin/sh -c
  uint32_t concurrency = 1;        // programs running at once (one connection each)
  uint64_t max = 0;                // exit after this many commands; 0 = run until SIGTERM
  std::string name;                // the worker's name; default host-pid
  std::string lease = "30s";       // how long each lease lasts; heartbeats at half of it
  std::string poll = "2s";         // long-poll wait per lease request (also how soon a
                                   // SIGTERM is noticed while idle)
};

CLI::App* AddWorkerCommand(CLI::App& app, WorkerOptions& options);
// 0 after SIGTERM/SIGINT or --max commands; 2 bad usage; 5 when the server was never
// reached.
int RunWorker(const WorkerOptions& options);

// A program's exit status that means "this command can never succeed": the command is
// failed as not retryable and goes to dead at once (EX_DATAERR of sysexits.h).
inline constexpr int kPermanentFailureExit = 65;

}  // namespace cmdq::app
