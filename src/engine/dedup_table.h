// Idempotency keys seen within the dedup window, and the command each one created.
// Sharded; thread-safe. Expired keys are dropped lazily, oldest first, as new ones come.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cmdq/command_id.h"

namespace cmdq::engine {

class DedupTable {
 public:
  explicit DedupTable(int64_t window_us) : window_us_(window_us) {}

  // Claims `key` for `id` unless a live claim exists; returns the existing id then.
  std::optional<CommandId> ClaimOrGet(std::string_view key, CommandId id, int64_t now_us);
  // Drops a claim made for `id` (its submit failed after claiming).
  void Release(std::string_view key, CommandId id);

 private:
  struct Claim {
    CommandId id;
    int64_t expires_us;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Claim> claims;
    std::deque<std::pair<int64_t, std::string>> by_expiry;  // claim order == expiry order
  };
  static constexpr size_t kShards = 16;
  Shard& ShardOf(std::string_view key);
  static void DropExpired(Shard& shard, int64_t now_us);

  const int64_t window_us_;
  std::array<Shard, kShards> shards_;
};

}  // namespace cmdq::engine
