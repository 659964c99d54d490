// HttpServer: cmdq's HTTP/JSON API v1 (docs/api.md) over a Bus, on Boost.Beast.
//
// Threads: `io_threads` threads, each running its own io_context; a connection is served
// by one thread at a time (no locks on the request path). The IoBalancer places new
// connections and moves them between requests: all on one thread at light load, spread
// when that thread gets busy (options.balance_io; else round-robin, never moved). Bus
// calls that may block run on the blocking pool (server_context.h).
//
// Extension points, used before Start(): router() takes more routes (GET /metrics);
// AddGate() checks each request before its route runs (auth, rate limits) and may refuse
// it with an answer; SetObserver() is told of every answer (metrics).
//
// Lifecycle: Start() binds and serves. StopAccepting() closes the listener and makes
// /readyz answer 503 (connections open keep being served, so that workers can finish
// their leases while the Bus drains). Stop() then waits up to a grace period for
// requests in flight, stops the io threads and the blocking pool. The Bus must outlive
// the server. Start/Stop from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "cmdq/bus.h"
#include "cmdq/status.h"
#include "server/connection.h"
#include "server/io_balancer.h"
#include "server/router.h"
#include "server/server_context.h"
#include "server/server_options.h"

namespace cmdq::server {

// Refuses a request before its route runs by returning the answer (401, 403, 429...).
using RequestGate = std::function<std::optional<HttpResponse>(const HttpRequest&, const Route&)>;
// Told of each answer of a route: for metrics. Runs on an io thread; keep it short.
using ResponseObserver =
    std::function<void(const Route&, const HttpResponse&, std::chrono::steady_clock::duration)>;

class HttpServer {
 public:
  HttpServer(Bus& bus, ServerOptions options);
  ~HttpServer();  // Stop()s if running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Router& router() { return router_; }
  void AddGate(RequestGate gate) { gates_.push_back(std::move(gate)); }
  void SetObserver(ResponseObserver observer) { observer_ = std::move(observer); }
  // Wires the ops modules (server_ops.h; not owned, they must outlive the server): the
  // auth gate and the routes' key checks, the submit rate limit, and with metrics the
  // observer and GET /metrics. Once, before Start().
  void SetOps(ServerOps ops);

  // Binds options.host:port and starts the io threads. kInvalidArgument for a host that
  // is not an IP address, kUnavailable when the address cannot be bound (in use...).
  Status Start();
  // The bound port (the chosen one when options.port is 0).
  uint16_t port() const { return port_; }
  void StopAccepting();
  // Waits up to `grace` for requests in flight, then stops everything.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

  uint32_t open_connections() const { return connections_.load(); }
  // Where connections are served; null without balancing (one io thread, or
  // options.balance_io false).
  IoBalancer* balancer() { return balancer_.get(); }

 private:
  struct IoThread;
  asio::awaitable<void> Accept();
  // Serves `socket` on io thread `index` (counted there by the balancer, if any).
  void Serve(asio::ip::tcp::socket socket, uint32_t index, bool refuse);
  // Takes `socket` to the thread the balancer wants it on, if it wants a move from `index`.
  bool MaybeMove(asio::ip::tcp::socket& socket, uint32_t index);
  // Each io thread's CPU share, told to the balancer every period.
  asio::awaitable<void> SampleLoad(uint32_t index);
  asio::awaitable<HttpResponse> Dispatch(HttpRequest& request);
  asio::awaitable<HttpResponse> RunRoute(const Route& route, HttpRequest& request,
                                         std::vector<std::string_view> params,
                                         std::string_view query);

  ServerOptions options_;
  ServerContext context_;
  Router router_;
  std::vector<RequestGate> gates_;
  ResponseObserver observer_;
  Dispatcher dispatcher_;
  std::vector<std::unique_ptr<IoThread>> io_;
  std::unique_ptr<IoBalancer> balancer_;  // null: round-robin
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  uint16_t port_ = 0;
  std::atomic<uint32_t> connections_{0};
  std::atomic<uint32_t> in_flight_{0};
  bool running_ = false;
};

}  // namespace cmdq::server
