// Idempotency keys seen within the dedup window, and the command each one created.
// Sharded; thread-safe. Expired keys are dropped lazily, oldest first, as new ones come.
//
// Bounded: a client that puts a key on every submit (the C++ client does, so that its
// retries never make two commands) would otherwise hold memory for a whole window of
// traffic (24 h at 50k/s is billions of keys). A key is kept as its 128-bit hash (a
// false match is a 2^-128 chance per pair), and past `max_keys` the oldest claims go
// before they expire: under heavy load the window shrinks to what fits (docs/api.md).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>

#include "cmdq/command_id.h"
#include "engine/claim_map.h"

namespace cmdq::engine {

class DedupTable {
 public:
  DedupTable(int64_t window_us, size_t max_keys);

  // Claims `key` for `id` unless a live claim exists; returns the existing id then.
  std::optional<CommandId> ClaimOrGet(std::string_view key, CommandId id, int64_t now_us);
  // Drops a claim made for `id` (its submit failed after claiming).
  void Release(std::string_view key, CommandId id);
  // Claims held now (expired ones not yet dropped included); for tests and metrics.
  size_t size();

 private:
  struct Shard {
    std::mutex mu;
    ClaimMap claims;
    // Claim order == expiry order. An entry whose claim was released (or replaced by a
    // later claim of the same key) is stale: it is skipped when it comes to the front.
    struct Entry {
      int64_t expires_us;
      KeyDigest digest;
      CommandId id;
    };
    std::deque<Entry> by_expiry;
  };
  static constexpr size_t kShards = 16;
  static KeyDigest DigestOf(std::string_view key);
  Shard& ShardOf(const KeyDigest& digest) { return shards_[digest.high % kShards]; }
  // Drops the claims that expired, then the oldest ones while the shard is over its share.
  void DropOld(Shard& shard, int64_t now_us) const;

  const int64_t window_us_;
  const size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace cmdq::engine
