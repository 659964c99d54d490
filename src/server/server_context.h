// ServerContext: what every route shares: the Bus it serves, the blocking pool, the
// options, and whether the server is ready. Owned by HttpServer; routes hold a reference.
#pragma once

// clang-format off
#include <utility>  // before any Boost.Asio header: Boost 1.74 needs it (decision 0040)
// clang-format on

#include <atomic>
#include <boost/asio/thread_pool.hpp>

#include "cmdq/bus.h"
#include "server/http_types.h"
#include "server/server_ops.h"
#include "server/server_options.h"

namespace cmdq::server {

struct ServerContext {
  ServerContext(Bus& b, const ServerOptions& o)
      : bus(b), options(o), blocking(o.blocking_threads) {}

  Bus& bus;
  const ServerOptions& options;
  asio::thread_pool blocking;  // see ServerOptions::blocking_threads
  // /readyz: true from Start until a stop begins.
  std::atomic<bool> ready{false};
  // Access control, rate limit, metrics: set by HttpServer::SetOps before Start.
  ServerOps ops;
};

}  // namespace cmdq::server
