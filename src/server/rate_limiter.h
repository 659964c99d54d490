// RateLimiter: the per-key submit rate limit of `cmdq serve` (a token bucket per key).
//
// Each key may submit `per_second` commands a second sustained and `burst` at once after
// a pause. A refused submit is answered 429 with Retry-After (RateDecision). A request
// for more than `burst` at once (a big batch on one key) passes when the bucket is full
// and leaves it in debt, so it is never refused forever and the long-run rate still holds.
//
// Memory is bounded: a key whose bucket has refilled is forgotten (it is the same as a
// key never seen), and past `max_keys` the fullest buckets are forgotten first, which
// can only ever let a key through early, never refuse it wrongly.
//
// Thread-safety: every method may be called from any thread. Keys are spread over
// shards, each with its own mutex, so submits of different keys rarely wait for each
// other.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "cmdq/clock.h"
#include "cmdq/status.h"

namespace cmdq::server {

struct RateLimitOptions {
  // Commands a second each key may submit, sustained. 0 = no limit (the default: a
  // limit must fit the workload, and a wrong one refuses good traffic).
  double per_second = 0;
  // Commands a key may submit at once after a pause (the bucket's size, >= 1): larger
  // absorbs bursts, smaller keeps a key's peak close to per_second.
  double burst = 100;
  // Keys remembered at most (~100 bytes each). Past it the fullest buckets are forgotten.
  size_t max_keys = 100'000;
};

// The answer to one Acquire.
struct RateDecision {
  bool allowed = true;
  // When refused: how long until the same request would pass, in µs.
  int64_t retry_after_us = 0;

  // The Retry-After header's value: whole seconds, rounded up, at least 1.
  int64_t RetryAfterSeconds() const;
  // OK, or kResourceExhausted without a field (HTTP 429) saying when to retry.
  Status ToStatus() const;
};

class RateLimiter {
 public:
  // `clock` is not owned and must outlive the limiter; tests pass a ManualClock.
  explicit RateLimiter(RateLimitOptions options, Clock* clock = SystemClock());
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  bool enabled() const { return options_.per_second > 0; }

  // Takes `n` commands' worth from `key`'s bucket if it has them. Always allowed when
  // !enabled(). The server calls it once per submit request per key, with the number of
  // that key's commands in the request, before submitting anything.
  RateDecision Acquire(std::string_view key, uint32_t n = 1);

  // Keys remembered now (for tests and a gauge).
  size_t KeyCount() const;

 private:
  struct Bucket;
  struct Shard;
  static constexpr size_t kShards = 16;

  Shard& ShardOf(std::string_view key);
  double Refilled(const Bucket& bucket, int64_t now) const;
  void Sweep(Shard& shard, int64_t now) const;

  const RateLimitOptions options_;
  Clock* const clock_;
  std::array<std::unique_ptr<Shard>, kShards> shards_;
};

}  // namespace cmdq::server
