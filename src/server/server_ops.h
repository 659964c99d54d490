// ServerOps: the operations modules (docs/operations.md) a server is wired to: access
// control, the per-key submit rate limit and metrics. `cmdq serve` owns them and hands
// the server pointers before it starts (HttpServer::SetOps); each null pointer leaves its
// feature off, which is what a test server or the benchmark gets by default.
#pragma once

namespace cmdq::server {

class Authorizer;
class RateLimiter;
class Metrics;

struct ServerOps {
  const Authorizer* auth = nullptr;  // null or without tokens: every request passes
  RateLimiter* limiter = nullptr;    // null or disabled: no submit rate limit
  Metrics* metrics = nullptr;        // null: nothing counted and no GET /metrics
};

}  // namespace cmdq::server
