#include "server/rate_limiter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace cmdq::server {
namespace {

constexpr double kMicrosPerSecond = 1e6;

// Heterogeneous lookup: finding a key costs no std::string.
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};

}  // namespace

struct RateLimiter::Bucket {
  double tokens = 0;    // may be negative: debt from a request larger than the burst
  int64_t last_us = 0;  // when `tokens` was last brought up to date
};

struct alignas(64) RateLimiter::Shard {
  std::mutex mu;
  std::unordered_map<std::string, Bucket, KeyHash, std::equal_to<>> buckets;  // guarded by mu
  int64_t last_sweep_us = 0;                                                  // guarded by mu
};

int64_t RateDecision::RetryAfterSeconds() const {
  const int64_t seconds = (retry_after_us + 999'999) / 1'000'000;
  return std::max<int64_t>(seconds, 1);
}

Status RateDecision::ToStatus() const {
  if (allowed) return Status::Ok();
  return Status::ResourceExhausted(
      fmt::format("rate limit of this key reached; retry in {} s", RetryAfterSeconds()));
}

RateLimiter::RateLimiter(RateLimitOptions options, Clock* clock)
    : options_([&] {
        options.burst = std::max(options.burst, 1.0);
        options.max_keys = std::max<size_t>(options.max_keys, kShards);
        return options;
      }()),
      clock_(clock) {
  for (auto& shard : shards_) shard = std::make_unique<Shard>();
}

RateLimiter::~RateLimiter() = default;

RateLimiter::Shard& RateLimiter::ShardOf(std::string_view key) {
  // The high bits: the low ones also pick the unordered_map's bucket inside the shard.
  const size_t hash = KeyHash{}(key);
  return *shards_[((hash >> 32) ^ hash) % kShards];
}

double RateLimiter::Refilled(const Bucket& bucket, int64_t now) const {
  const double elapsed = static_cast<double>(std::max<int64_t>(now - bucket.last_us, 0));
  return std::min(options_.burst, bucket.tokens + elapsed * options_.per_second / kMicrosPerSecond);
}

// Makes room for a new key. A pass over the shard: when it is full, or once a second.
void RateLimiter::Sweep(Shard& shard, int64_t now) const {
  const size_t cap = options_.max_keys / kShards;
  if (shard.buckets.size() < cap && now - shard.last_sweep_us < 1'000'000) return;
  shard.last_sweep_us = now;
  // A full bucket is the same as no bucket.
  std::erase_if(shard.buckets,
                [&](const auto& entry) { return Refilled(entry.second, now) >= options_.burst; });
  if (shard.buckets.size() < cap) return;
  // Every key is busy: forget the fullest eighth, so that the next new keys do not each
  // pay for a pass.
  std::vector<std::pair<double, std::string>> fullest;
  fullest.reserve(shard.buckets.size());
  for (const auto& [key, bucket] : shard.buckets) fullest.emplace_back(Refilled(bucket, now), key);
  const size_t drop = std::max<size_t>(fullest.size() / 8, 1);
  std::nth_element(fullest.begin(), fullest.begin() + (drop - 1), fullest.end(), std::greater<>());
  for (size_t i = 0; i < drop; ++i) shard.buckets.erase(fullest[i].second);
}

RateDecision RateLimiter::Acquire(std::string_view key, uint32_t n) {
  if (!enabled()) return {};
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  // Read under the lock: a time read before it could be older than the bucket's last_us
  // and, written back, would credit the same interval twice. A clock that steps back
  // credits nothing for the step.
  const int64_t now = clock_->NowMicros();
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    Sweep(shard, now);
    it = shard.buckets.emplace(std::string(key), Bucket{options_.burst, now}).first;
  }
  Bucket& bucket = it->second;
  bucket.tokens = Refilled(bucket, now);
  bucket.last_us = now;
  const double need = std::min(static_cast<double>(n), options_.burst);
  if (bucket.tokens >= need) {
    bucket.tokens -= n;  // may go below 0: the debt of a request larger than the burst
    return {};
  }
  const double wait_s = (need - bucket.tokens) / options_.per_second;
  return {.allowed = false,
          .retry_after_us = static_cast<int64_t>(std::ceil(wait_s * kMicrosPerSecond))};
}

size_t RateLimiter::KeyCount() const {
  size_t count = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    count += shard->buckets.size();
  }
  return count;
}

}  // namespace cmdq::server
