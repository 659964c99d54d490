// Client::Impl: what every Client call shares: the transport, the target's base path, the
// retry loop and the mapping of HTTP answers to Status. Private to src/client.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_transport.h"
#include "client/idempotency_keys.h"
#include "client/retry_policy.h"
#include "client/target_url.h"
#include "cmdq/client.h"

namespace cmdq {

// May the request be sent again after a try that may have reached the server?
enum class Repeat {
  kSafe,           // reads, and writes the server deduplicates (submits with their keys,
                   // outcomes and heartbeats under a lease token)
  kIfNotReceived,  // writes that would act twice: only after 429/503 or no connection
};

struct Client::Impl {
  using Sleep = std::function<void(std::chrono::milliseconds)>;

  Impl(ClientOptions options, client::TargetUrl target,
       std::unique_ptr<client::HttpTransport> transport, Sleep sleep);

  // Sends `body` to base path + `route` and returns a 2xx answer, retrying as the policy
  // says; otherwise the answer's error (ParseErrorJson) or the transport's.
  // `waits`: how long the server may hold the request on purpose (?wait=, long-poll).
  Result<client::HttpResponse> Call(std::string_view method, std::string_view route,
                                    std::string body, Repeat repeat,
                                    std::chrono::milliseconds waits = {});

  // POST /v1/commands with a batch, after giving each command without an idempotency
  // key a fresh one; `query` is "" or "?wait=...".
  Result<client::HttpResponse> CallBatch(std::vector<Command>& commands, std::string_view query,
                                         std::chrono::milliseconds wait);

  ClientOptions options;
  client::TargetUrl target;
  std::unique_ptr<client::HttpTransport> transport;
  client::RetryPolicy retry;
  client::IdempotencyKeys keys;
  Sleep sleep;
};

namespace client {

// A batch's answer must have one result per item: anything else is the server's fault.
template <typename T>
Result<std::vector<T>> CheckCount(Result<std::vector<T>> results, size_t sent) {
  if (results && results->size() != sent) {
    return Error(Status::Corruption("the server answered " + std::to_string(results->size()) +
                                    " results for " + std::to_string(sent) + " items"));
  }
  return results;
}

// A Client over any transport, with its own sleep (tests pass a fake that records the
// waits). `options.target` is still parsed for the base path.
Result<std::unique_ptr<Client>> NewClientWithTransport(ClientOptions options,
                                                       std::unique_ptr<HttpTransport> transport,
                                                       Client::Impl::Sleep sleep);
}  // namespace client

}  // namespace cmdq
