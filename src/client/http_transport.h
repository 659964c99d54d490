// HttpTransport: the seam between the Client's logic (routes, retries, error mapping) and
// the network, so that the logic is tested with a fake and the network code stays small.
// Not thread-safe: one transport per Client.
#pragma once

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::client {

struct HttpRequest {
  std::string_view method;                    // "GET" or "POST"
  std::string target;                         // path and query, base path included
  std::string body;                           // JSON; empty for a GET
  std::chrono::milliseconds timeout{10'000};  // sending it and reading the answer
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::optional<std::string> retry_after;  // the Retry-After header, when present
};

// A try that got no answer. `may_have_arrived` is false when the request cannot have
// reached the server (no connection was made), so even a request that is not safe to
// repeat can be sent again.
struct TransportError {
  Status status;  // kUnavailable (connect, reset, closed) or kDeadlineExceeded
  bool may_have_arrived = true;
};

using Exchange = std::expected<HttpResponse, TransportError>;

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Exchange RoundTrip(const HttpRequest& request) = 0;
};

}  // namespace cmdq::client
