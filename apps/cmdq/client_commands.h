// The subcommands that talk to a running server through the client library: submit,
// get, list, audit, cancel, undo, redrive (docs/cli.md). Human-readable output by
// default; --json prints the API's JSON (docs/api.md) for scripts.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "server_connection.h"

namespace cmdq::app {

struct ClientCommandOptions {
  ServerConnection connection;
  bool json = false;
  std::string id;    // get, audit, cancel, undo, redrive
  std::string wait;  // submit, get: a duration such as 2s; empty = do not wait
  // submit
  std::string type;
  std::string key;
  std::string payload;       // JSON text
  std::string payload_file;  // bytes; "-" = standard input
  std::string idempotency_key;
  uint32_t max_attempts = 0;
  // list
  std::string list_key;
  std::string list_state;
  std::string list_type;
  std::string cursor;
  uint32_t limit = 100;
};

struct ClientCommands {
  CLI::App* submit = nullptr;
  CLI::App* get = nullptr;
  CLI::App* list = nullptr;
  CLI::App* audit = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* undo = nullptr;
  CLI::App* redrive = nullptr;
};

ClientCommands AddClientCommands(CLI::App& app, ClientCommandOptions& options);

// The exit code of whichever of the commands was parsed; nullopt when none was.
std::optional<int> RunClientCommands(const ClientCommands& commands,
                                     const ClientCommandOptions& options);

// `cmdq submit` (submit_command.cc).
CLI::App* AddSubmitCommand(CLI::App& app, ClientCommandOptions& options);
int RunSubmit(const ClientCommandOptions& options);

// What --wait left: kExitOk when the command succeeded, kExitNotSucceeded when it ended
// otherwise, kExitTimeout when it is still running.
int ExitCodeForWaited(const Record& record);

}  // namespace cmdq::app
