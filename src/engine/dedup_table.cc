#include "engine/dedup_table.h"

#include "core/partitioner.h"

namespace cmdq::engine {

DedupTable::Shard& DedupTable::ShardOf(std::string_view key) {
  return shards_[KeyHash(key) % kShards];
}

void DedupTable::DropExpired(Shard& shard, int64_t now_us) {
  while (!shard.by_expiry.empty() && shard.by_expiry.front().first <= now_us) {
    auto it = shard.claims.find(shard.by_expiry.front().second);
    // A key may have been re-claimed after expiry; drop it only if this entry is its claim.
    if (it != shard.claims.end() && it->second.expires_us <= now_us) shard.claims.erase(it);
    shard.by_expiry.pop_front();
  }
}

std::optional<CommandId> DedupTable::ClaimOrGet(std::string_view key, CommandId id,
                                                int64_t now_us) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  DropExpired(shard, now_us);
  auto [it, inserted] = shard.claims.try_emplace(std::string(key), Claim{id, now_us + window_us_});
  if (!inserted) return it->second.id;
  shard.by_expiry.emplace_back(now_us + window_us_, std::string(key));
  return std::nullopt;
}

void DedupTable::Release(std::string_view key, CommandId id) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.claims.find(std::string(key));
  if (it != shard.claims.end() && it->second.id == id) shard.claims.erase(it);
}

}  // namespace cmdq::engine
