#include "client/retry_policy.h"

#include <algorithm>
#include <charconv>

namespace cmdq::client {

bool IsRetryableStatus(int http_status) { return http_status == 429 || http_status == 503; }

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  uint32_t seconds = 0;
  auto [end, error] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (header.empty() || error != std::errc() || end != header.data() + header.size()) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(int64_t{seconds} * 1000);
}

RetryPolicy::RetryPolicy(RetryOptions options, uint64_t seed) : options_(options), random_(seed) {
  options_.jitter = std::clamp(options_.jitter, 0.0, 1.0);
}

std::chrono::milliseconds RetryPolicy::Delay(int retry,
                                             std::optional<std::chrono::milliseconds> retry_after) {
  if (retry_after) return std::min(*retry_after, options_.max_retry_after);
  const int doublings = std::clamp(retry - 1, 0, 30);
  const double base = std::min<double>(double(options_.initial_backoff.count()) * (1 << doublings),
                                       double(options_.max_backoff.count()));
  std::uniform_real_distribution<double> factor(1.0 - options_.jitter, 1.0 + options_.jitter);
  return std::chrono::milliseconds(static_cast<int64_t>(base * factor(random_)));
}

}  // namespace cmdq::client
