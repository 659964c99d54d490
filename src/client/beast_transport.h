// BeastTransport: HttpTransport over one keep-alive HTTP/1.1 connection, with Boost.Beast.
//
// Beast's messages, serializer and parser do the HTTP. Resolving and connecting run as
// asynchronous operations on a private io_context that the calling thread runs to
// completion (connect_timeout). A request's write and read use Beast's synchronous calls
// over the socket, each step waiting in poll() for what is left of the request's
// timeout: a few send/recv calls instead of the io_context's reactor and timers. So a
// call blocks its caller, and no thread is started.
//
// The connection is opened on first use and kept. A kept connection that the server has
// closed in the meantime (idle timeout, restart) fails on the next write or before the
// first byte of the answer: the request is then sent once more on a fresh connection,
// which is how HTTP clients treat a stale keep-alive connection. Not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "client/http_transport.h"
#include "client/target_url.h"

namespace cmdq::client {

class BeastTransport : public HttpTransport {
 public:
  // `authorization`: the Authorization header's value, or empty for none.
  BeastTransport(TargetUrl target, std::string authorization,
                 std::chrono::milliseconds connect_timeout);
  ~BeastTransport() override;
  BeastTransport(const BeastTransport&) = delete;
  BeastTransport& operator=(const BeastTransport&) = delete;

  Exchange RoundTrip(const HttpRequest& request) override;

  // Connections opened so far (tests check that one is reused).
  int connects() const;

 private:
  struct Connection;
  std::unique_ptr<Connection> connection_;
};

}  // namespace cmdq::client
