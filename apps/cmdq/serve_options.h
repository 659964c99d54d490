// The options of `cmdq serve`: every one settable by flag, by environment variable
// (CMDQ_LISTEN, CMDQ_DATA_DIR, ...) and by a TOML config file (--config FILE), in that
// order of precedence (docs/api.md, "Running the server").
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cmdq/bus.h"
#include "cmdq/handler.h"
#include "cmdq/status.h"

namespace cmdq::app {

struct ServeOptions {
  std::string listen = "127.0.0.1:7700";  // host:port; port 0 picks a free one
  std::string data_dir = "./cmdq-data";   // the RocksDB store (durable mode)
  std::string durability = "sync";        // sync: durable on RocksDB; none: async in memory
  std::vector<std::string> types;         // remote types: NAME[:key=value,...]
  std::string config;                     // a TOML file of these options
  std::string log_level = "info";
  uint32_t io_threads = 0;  // 0 = cores
  bool balance_io = true;   // pack connections onto the io threads the load needs
  uint32_t blocking_threads = 16;
  uint32_t workers = 0;  // the Bus's handler threads for built-in types; 0 = cores
  uint32_t queue_capacity = BusOptions{}.queue_capacity;  // per partition; submits wait past it
  size_t max_body_bytes = size_t{16} << 20;
  size_t max_batch = 1000;
  uint32_t request_timeout_ms = 10'000;
  uint32_t idle_timeout_ms = 60'000;
  uint32_t max_connections = 10'000;
  uint32_t max_wait_ms = 60'000;
  uint32_t lease_ms = 30'000;  // a lease's length when the worker does not say
  uint32_t drain_ms = 10'000;  // SIGTERM: how long leased commands may still finish
  std::string tokens;          // bearer token file; empty = no access control
  bool insecure = false;       // allow a non-loopback --listen without tokens
  double rate_per_key = 0;     // submits a second per key; 0 = no limit
  double rate_burst = 100;
};

// A remote type from "NAME[:max_attempts=N,timeout_ms=N,backoff_ms=N,ordered=true|false]".
struct RemoteTypeSpec {
  std::string name;
  TypeOptions options;
};
Result<RemoteTypeSpec> ParseTypeSpec(std::string_view text);

// "host:port" or "[v6]:port".
struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};
Result<ListenAddress> ParseListen(std::string_view text);

CLI::App* AddServeCommand(CLI::App& app, ServeOptions& options);

// Reads `path` (TOML: `listen = "..."`, `type = ["a", "b:max_attempts=5"]`, the long
// flag names without "--") into the options that neither a flag nor the environment set.
// kInvalidArgument for an unknown key or a bad value, naming the file.
Status ApplyConfigFile(CLI::App& serve, const std::string& path);

}  // namespace cmdq::app
