// RetryPolicy: when a failed try is sent again, and how long the Client waits first
// (include/cmdq/client.h, "Retries"). Exponential backoff with jitter; a Retry-After
// header from the server replaces the backoff. Not thread-safe (it owns a random
// generator): one per Client.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

#include "cmdq/client.h"

namespace cmdq::client {

// HTTP statuses that say "not now, try again": 429 (a rate limit, a full queue) and 503
// (shutting down, a backend down). The server acted on nothing in either case.
bool IsRetryableStatus(int http_status);

// Retry-After in delta-seconds ("3"); nullopt for anything else, an HTTP date included
// (the Client then falls back to its own backoff).
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view header);

class RetryPolicy {
 public:
  explicit RetryPolicy(RetryOptions options, uint64_t seed = std::random_device{}());

  int max_retries() const { return options_.max_retries; }
  // The wait before retry `retry` (1 for the first): initial_backoff * 2^(retry-1), capped
  // at max_backoff, jittered; or `retry_after` capped at max_retry_after (not jittered:
  // the server asked for it).
  std::chrono::milliseconds Delay(int retry, std::optional<std::chrono::milliseconds> retry_after);

 private:
  RetryOptions options_;
  std::mt19937_64 random_;
};

}  // namespace cmdq::client
