#include "cache/lru_cache.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace cmdq::cache {

LruCache::LruCache(size_t capacity) {
  const size_t count = std::bit_floor(std::clamp<size_t>(capacity / kMinPerShard, 1, kMaxShards));
  shards_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    auto shard = std::make_unique<Shard>();
    // Split the capacity exactly: the first `capacity % count` shards take one more.
    shard->capacity = capacity / count + (i < capacity % count ? 1 : 0);
    shard->index.reserve(std::min<size_t>(shard->capacity, 4096));
    shards_.push_back(std::move(shard));
  }
}

LruCache::Shard& LruCache::ShardFor(uint64_t id) const {
  // Ids have mostly-zero low bits at low rates: mix before taking the top bits.
  return *shards_[((id * 0x9E3779B97F4A7C15ull) >> 60) & (shards_.size() - 1)];
}

std::optional<Record> LruCache::Get(CommandId id) {
  Shard& shard = ShardFor(id.value());
  std::shared_ptr<const Record> found;
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.index.find(id.value());
    if (it == shard.index.end()) return std::nullopt;
    shard.order.splice(shard.order.begin(), shard.order, it->second);  // promote
    found = it->second->record;
  }
  return *found;
}

void LruCache::Put(const Record& record) {
  const uint64_t id = record.command.id.value();
  Shard& shard = ShardFor(id);
  if (shard.capacity == 0) return;
  // Allocate and copy outside the lock; free the evicted outside it too.
  List fresh;
  fresh.push_back({id, std::make_shared<const Record>(record)});
  List evicted;
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.index.find(id);
    if (it != shard.index.end()) {
      evicted.splice(evicted.end(), shard.order, it->second);  // the replaced value
      shard.index.erase(it);
    }
    shard.order.splice(shard.order.begin(), fresh);
    shard.index.emplace(id, shard.order.begin());
    while (shard.order.size() > shard.capacity) {
      shard.index.erase(shard.order.back().id);
      evicted.splice(evicted.end(), shard.order, std::prev(shard.order.end()));
    }
  }
}

void LruCache::Erase(CommandId id) {
  Shard& shard = ShardFor(id.value());
  List erased;
  std::lock_guard lock(shard.mu);
  auto it = shard.index.find(id.value());
  if (it == shard.index.end()) return;
  erased.splice(erased.end(), shard.order, it->second);
  shard.index.erase(it);
}

size_t LruCache::size() const {
  size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    total += shard->order.size();
  }
  return total;
}

}  // namespace cmdq::cache

namespace cmdq {

std::unique_ptr<Cache> NewLruCache(size_t capacity) {
  return std::make_unique<cache::LruCache>(capacity);
}

}  // namespace cmdq
