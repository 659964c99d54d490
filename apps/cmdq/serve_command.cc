#include "serve_command.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "builtin_types.h"
#include "cmdq/bus.h"
#include "cmdq/rocksdb_store.h"
#include "cmdq/store.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/rate_limiter.h"

namespace cmdq::app {
namespace {

using std::chrono::milliseconds;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int UsageError(const Status& status) {
  spdlog::error("cmdq serve: {}", status.message());
  return kExitUsage;
}

server::ServerOptions ToServerOptions(const ServeOptions& o, const ListenAddress& listen) {
  server::ServerOptions s;
  s.host = listen.host;
  s.port = listen.port;
  s.io_threads = o.io_threads;
  s.balance_io = o.balance_io;
  s.blocking_threads = o.blocking_threads;
  s.max_body_bytes = o.max_body_bytes;
  s.request_timeout = milliseconds(o.request_timeout_ms);
  s.idle_timeout = milliseconds(o.idle_timeout_ms);
  s.max_connections = o.max_connections;
  s.max_wait = milliseconds(o.max_wait_ms);
  s.submit_limits.max_batch = o.max_batch;
  return s;
}

Result<std::unique_ptr<Bus>> OpenBus(const ServeOptions& o,
                                     const std::vector<RemoteTypeSpec>& types,
                                     server::Metrics& metrics) {
  BusOptions options;
  options.on_finished = [&metrics](const Completion& c) { metrics.OnFinished(c); };
  options.on_commit = [&metrics](const CommitStats& stats) { metrics.OnCommit(stats); };
  options.on_lease_expired = [&metrics](std::string_view type) { metrics.OnLeaseExpired(type); };
  options.on_leased = [&metrics](std::string_view type, int64_t waited_ns) {
    metrics.OnLeased(type, waited_ns);
  };
  options.workers = o.workers;
  options.queue_capacity = o.queue_capacity;
  options.lease_duration = milliseconds(o.lease_ms);
  options.lease_drain_wait = milliseconds(o.drain_ms);
  BusDeps deps;
  if (o.durability == "none") {
    options.mode = Mode::kAsync;
    deps.store = NewMemoryStore();
  } else {
    options.mode = Mode::kDurable;
    auto store = OpenRocksDbStore({.path = o.data_dir});
    if (!store) return Error(store.error());
    deps.store = std::move(*store);
  }
  auto bus = Bus::Create(std::move(options), std::move(deps));
  if (!bus) return bus;
  if (Status s = RegisterBuiltinTypes(**bus); !s.ok()) return Error(s);
  for (const RemoteTypeSpec& type : types) {
    if (Status s = (*bus)->RegisterRemote(type.name, type.options); !s.ok()) return Error(s);
  }
  if (Status s = (*bus)->Start(); !s.ok()) return Error(s);
  return bus;
}

// SIGTERM and SIGINT are blocked in every thread (the Bus's and the server's inherit the
// mask) and taken here by sigwait: no handler runs in an arbitrary thread.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int RunServe(CLI::App& serve, ServeOptions& options) {
  if (!options.config.empty()) {
    if (Status s = ApplyConfigFile(serve, options.config); !s.ok()) return UsageError(s);
  }
  // Logs go to stderr: stdout carries only the "listening on" line that scripts read.
  spdlog::set_default_logger(spdlog::stderr_color_mt("cmdq"));
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  auto listen = ParseListen(options.listen);
  if (!listen) return UsageError(listen.error());
  std::vector<RemoteTypeSpec> types;
  for (const std::string& text : options.types) {
    auto spec = ParseTypeSpec(text);
    if (!spec) return UsageError(spec.error());
    types.push_back(std::move(*spec));
  }
  // Access control before anything opens: a bad token file or an open non-loopback
  // address stops the start (docs/operations.md, "Access control").
  server::Authorizer auth;
  if (!options.tokens.empty()) {
    auto loaded = server::Authorizer::LoadFile(options.tokens);
    if (!loaded) return UsageError(loaded.error());
    auth = std::move(*loaded);
  }
  if (Status s = server::CheckBindAllowed(listen->host, auth.enabled(), options.insecure);
      !s.ok()) {
    return UsageError(s);
  }
  if (options.insecure && !auth.enabled()) {
    spdlog::warn("--insecure: serving {} without any authentication", options.listen);
  }
  server::RateLimiter limiter({.per_second = options.rate_per_key, .burst = options.rate_burst});
  // Declared before the Bus, whose hooks count into it, so that it outlives the Bus.
  server::Metrics metrics;

  const sigset_t stop_signals = BlockStopSignals();
  auto bus = OpenBus(options, types, metrics);
  if (!bus) {
    spdlog::error("cmdq serve: {}", bus.error().ToString());
    return kExitFailed;
  }
  metrics.SetPartitionSource([b = bus->get()] { return b->Partitions(); });
  server::HttpServer http(**bus, ToServerOptions(options, *listen));
  http.SetOps({.auth = &auth, .limiter = &limiter, .metrics = &metrics});
  if (Status s = http.Start(); !s.ok()) {
    spdlog::error("cmdq serve: {}", s.ToString());
    (*bus)->Stop(StopMode::kNow);
    return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
  }
  std::printf("cmdq: listening on %s:%u\n", listen->host.c_str(), http.port());
  std::fflush(stdout);
  spdlog::info("serving {} ({} durability, {} remote types, {} tokens, rate limit {})",
               options.listen, options.durability, types.size(), auth.size(),
               limiter.enabled() ? fmt::format("{}/s per key", options.rate_per_key) : "off");

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  const auto stop_start = std::chrono::steady_clock::now();
  spdlog::info("signal {}: draining", signal_number);
  http.StopAccepting();  // /readyz 503; open connections may still finish their leases
  const StopReport report = (*bus)->Stop(StopMode::kDrain);
  http.Stop();
  const auto took =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - stop_start);
  spdlog::info("stopped in {} ms: {} finished while stopping, {} left for the next start",
               took.count(), report.completed_while_stopping, report.left.size());
  return 0;
}

}  // namespace cmdq::app
