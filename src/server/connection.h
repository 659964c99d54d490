// Connection: one client's TCP connection, served by one coroutine: read a request,
// dispatch it, write the answer, again while keep-alive holds. Requests of a connection
// are answered one at a time, in order, so pipelined requests (sent before the earlier
// answers came) are safe: Beast's buffer keeps the bytes of the next one.
//
// Timeouts (ServerOptions): idle_timeout between requests (closed silently),
// request_timeout from a request's first byte to its end (408, then closed: a client
// sending one byte a second cannot hold the connection), write_timeout for the answer.
// A watchdog timer cancels the socket's operation when the deadline passes. Arming a
// deadline only stores it: the watchdog wakes at least every half of the shortest
// timeout and re-arms itself, so a request costs no timer syscall or wake-up.
// Runs on one io_context's thread; not shared between threads. Between requests (nothing
// read ahead) the server may move it to another io thread (IoBalancer): the mover takes
// the socket and serves it from there, and this object ends without closing it.
#pragma once

// clang-format off
#include <utility>  // before any Boost.Asio header: Boost 1.74 needs it (decision 0040)
// clang-format on

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "server/http_types.h"
#include "server/server_options.h"

namespace cmdq::server {

using Dispatcher = std::function<asio::awaitable<HttpResponse>(HttpRequest&)>;
// Asked at each request boundary; true when it took the socket to serve it elsewhere.
using Mover = std::function<bool(asio::ip::tcp::socket& socket)>;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `on_close` runs once, when the connection object goes (the server's count), unless
  // `mover` took the socket. `mover` may be empty (the connection never moves).
  Connection(asio::ip::tcp::socket socket, const ServerOptions& options, const Dispatcher& dispatch,
             std::function<void()> on_close, Mover mover = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Spawns the connection's coroutines on its socket's executor.
  void Start();
  // Writes `response` and closes: for a connection the server refuses (too many).
  void Refuse(HttpResponse response);

 private:
  asio::awaitable<void> Serve();
  asio::awaitable<void> Watchdog();
  // Answers an error the connection cannot recover from, then the caller closes.
  asio::awaitable<void> WriteFinal(HttpResponse& response);
  asio::awaitable<bool> Write(HttpResponse& response);
  void Arm(std::chrono::milliseconds timeout);
  void Close();

  asio::ip::tcp::socket socket_;
  asio::steady_timer watchdog_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  const std::chrono::steady_clock::duration check_every_;  // the watchdog's longest sleep
  const ServerOptions& options_;
  const Dispatcher& dispatch_;
  std::function<void()> on_close_;
  Mover mover_;
  bool timed_out_ = false;
  HttpResponse refusal_;  // what Refuse() writes
};

}  // namespace cmdq::server
