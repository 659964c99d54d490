#include "engine/dedup_table.h"

#include <xxhash.h>

#include <algorithm>

namespace cmdq::engine {

DedupTable::DedupTable(int64_t window_us, size_t max_keys)
    : window_us_(window_us), max_per_shard_(std::max<size_t>(1, max_keys / kShards)) {}

KeyDigest DedupTable::DigestOf(std::string_view key) {
  const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
  // {0, 0} marks an empty slot of the claim map.
  return KeyDigest{h.low64 == 0 && h.high64 == 0 ? 1 : h.low64, h.high64};
}

void DedupTable::DropOld(Shard& shard, int64_t now_us) const {
  // The bound counts live claims; stale entries (released claims) are bounded too, so
  // that a stream of releases cannot grow the queue.
  auto over = [&] {
    return shard.claims.size() >= max_per_shard_ || shard.by_expiry.size() >= 2 * max_per_shard_;
  };
  // The oldest claims are cold: ask for the slots of those a few entries ahead, so that
  // their misses overlap.
  constexpr size_t kAhead = 4;
  while (!shard.by_expiry.empty() && (shard.by_expiry.front().expires_us <= now_us || over())) {
    if (shard.by_expiry.size() > kAhead) shard.claims.Prefetch(shard.by_expiry[kAhead].digest);
    const Shard::Entry& e = shard.by_expiry.front();
    // The key may have been released and claimed again since: drop only this entry's claim.
    shard.claims.EraseIf(e.digest, e.id);
    shard.by_expiry.pop_front();
  }
}

std::optional<CommandId> DedupTable::ClaimOrGet(std::string_view key, CommandId id,
                                                int64_t now_us) {
  const KeyDigest digest = DigestOf(key);
  Shard& shard = ShardOf(digest);
  std::lock_guard lock(shard.mu);
  DropOld(shard, now_us);
  if (const CommandId* claimed = shard.claims.InsertOrFind(digest, id)) return *claimed;
  shard.by_expiry.push_back({now_us + window_us_, digest, id});
  return std::nullopt;
}

void DedupTable::Release(std::string_view key, CommandId id) {
  const KeyDigest digest = DigestOf(key);
  Shard& shard = ShardOf(digest);
  std::lock_guard lock(shard.mu);
  shard.claims.EraseIf(digest, id);
}

size_t DedupTable::size() {
  size_t n = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.claims.size();
  }
  return n;
}

}  // namespace cmdq::engine
