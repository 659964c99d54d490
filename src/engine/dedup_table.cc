#include "engine/dedup_table.h"

#include <xxhash.h>

#include <algorithm>

namespace cmdq::engine {

DedupTable::DedupTable(int64_t window_us, size_t max_keys)
    : window_us_(window_us), max_per_shard_(std::max<size_t>(1, max_keys / kShards)) {}

DedupTable::Digest DedupTable::DigestOf(std::string_view key) {
  const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
  return Digest{h.low64, h.high64};
}

void DedupTable::DropOld(Shard& shard, int64_t now_us) const {
  // The bound counts live claims; stale entries (released claims) are bounded too, so
  // that a stream of releases cannot grow the queue.
  auto over = [&] {
    return shard.claims.size() >= max_per_shard_ || shard.by_expiry.size() >= 2 * max_per_shard_;
  };
  while (!shard.by_expiry.empty() && (shard.by_expiry.front().expires_us <= now_us || over())) {
    const Shard::Entry& e = shard.by_expiry.front();
    auto it = shard.claims.find(e.digest);
    // The key may have been released and claimed again since: drop only this entry's claim.
    if (it != shard.claims.end() && it->second.id == e.id) shard.claims.erase(it);
    shard.by_expiry.pop_front();
  }
}

std::optional<CommandId> DedupTable::ClaimOrGet(std::string_view key, CommandId id,
                                                int64_t now_us) {
  const Digest digest = DigestOf(key);
  Shard& shard = ShardOf(digest);
  std::lock_guard lock(shard.mu);
  DropOld(shard, now_us);
  const int64_t expires_us = now_us + window_us_;
  auto [it, inserted] = shard.claims.try_emplace(digest, Claim{id, expires_us});
  if (!inserted) return it->second.id;
  shard.by_expiry.push_back({expires_us, digest, id});
  return std::nullopt;
}

void DedupTable::Release(std::string_view key, CommandId id) {
  const Digest digest = DigestOf(key);
  Shard& shard = ShardOf(digest);
  std::lock_guard lock(shard.mu);
  auto it = shard.claims.find(digest);
  if (it != shard.claims.end() && it->second.id == id) shard.claims.erase(it);
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
