// ServerOptions: what `cmdq serve` sets on the HTTP server (docs/api.md, "Limits").
// Every limit protects the server from a client: each says what happens when it is hit.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocol/submit_parser.h"
#include "protocol/worker_parser.h"

namespace cmdq::server {

struct ServerOptions {
  // Address and port to listen on; port 0 picks a free one (HttpServer::port() tells).
  std::string host = "127.0.0.1";
  uint16_t port = 7700;
  // Threads running io_contexts (one io_context each): parse, route, write. 0 = cores.
  uint32_t io_threads = 0;
  // Pack connections onto the fewest io threads the load needs (IoBalancer): fewer
  // wake-ups at light load. false: connections go round-robin and never move.
  bool balance_io = true;
  // Threads for Bus calls that block (a durable submit waits for its fsync, Finish,
  // Cancel, Undo, Redrive): they never run on an io thread. More let more blocking calls
  // wait at once (e.g. concurrent durable submits sharing group commits); each is a
  // thread's stack.
  uint32_t blocking_threads = 16;
  // Largest request body, bytes: more is 413 (field "body") and the connection closes.
  size_t max_body_bytes = size_t{16} << 20;
  // Largest request head (request line and headers), bytes: more is 431.
  uint32_t max_header_bytes = 16 << 10;
  // Time to receive a request once its first byte came (head and body): a slower client
  // gets 408 and the connection closes. Stops a client that sends one byte a second.
  std::chrono::milliseconds request_timeout{10'000};
  // A keep-alive connection with no request for this long is closed (no answer).
  std::chrono::milliseconds idle_timeout{60'000};
  // Time to write an answer; a client that does not read it is dropped.
  std::chrono::milliseconds write_timeout{10'000};
  // Connections open at once. One more is accepted, answered 503 (UNAVAILABLE) and
  // closed, so a client learns why rather than waiting in the kernel's backlog.
  uint32_t max_connections = 10'000;
  // Longest ?wait= of a submit or get: longer is 400 (field "wait").
  std::chrono::milliseconds max_wait{60'000};
  // Body limits of the protocol layer: payload size, batch length, lease sizes.
  protocol::SubmitLimits submit_limits;
  protocol::LeaseLimits lease_limits;
};

}  // namespace cmdq::server
