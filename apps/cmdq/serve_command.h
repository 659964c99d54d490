// `cmdq serve`: the HTTP/JSON API server (docs/api.md) over a Bus on the RocksDB store
// (durable, the default) or in memory (--durability none). Options: serve_options.h.
#pragma once

#include <CLI/CLI.hpp>

#include "serve_options.h"

namespace cmdq::app {

// Runs until SIGTERM or SIGINT, then drains. Exit codes: 0 after a clean stop, 1 when
// the store or the listener cannot be opened, 2 for bad options.
int RunServe(CLI::App& serve, ServeOptions& options);

}  // namespace cmdq::app
