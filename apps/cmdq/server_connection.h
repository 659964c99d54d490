// How the subcommands that talk to a server (submit, get, list, ..., worker, bench
// --transport http) find it: --target and --token, from flags or the environment, and
// the exit code a failed call ends the process with (docs/cli.md, "Exit codes").
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cmdq/client.h"

namespace cmdq::app {

inline constexpr char kDefaultTarget[] = "http://127.0.0.1:7700";

struct ServerConnection {
  std::string target = kDefaultTarget;  // --target / CMDQ_TARGET
  std::string token;                    // --token / CMDQ_TOKEN
};

// Adds --target and --token to `cmd`.
void AddConnectionFlags(CLI::App& cmd, ServerConnection& connection);

ClientOptions ClientOptionsFor(const ServerConnection& connection);

// Exit codes of the client subcommands; docs/cli.md explains each.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,        // anything not below: a bug, an answer that does not parse
  kExitUsage = 2,         // bad flags or arguments (also CLI11's own errors)
  kExitNotFound = 3,      // no such command (404)
  kExitRefused = 4,       // the server refused the request (other 4xx: bad input, state, auth)
  kExitUnavailable = 5,   // no server, or it is overloaded or failing (429/5xx after retries)
  kExitTimeout = 6,       // a timeout or a wait ran out
  kExitNotSucceeded = 7,  // submit/get --wait: the command ended, but not in succeeded
};

// The exit code for a call that failed with `status`.
int ExitCodeFor(const Status& status);

// Prints "cmdq <what>: <status>" on stderr and returns ExitCodeFor(status).
int ReportFailure(std::string_view what, const Status& status);

// For a bad flag value found after parsing (an id, a duration): prints it, returns kExitUsage.
int ReportUsage(std::string_view what, const Status& status);

}  // namespace cmdq::app
