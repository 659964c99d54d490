// LruCache: the in-process Cache backend (NewLruCache): a sharded least-recently-used map
// from command id to its terminal Record.
//
// Each shard has its own mutex, recency list and hash map, and 1/N of the capacity, so
// eviction is LRU within a shard (approximately LRU overall). Small caches (under
// kMinPerShard records per shard) use fewer shards so that they stay exact. Records are
// held as shared_ptr<const Record>: Get copies the record out after the lock is released,
// and Put builds its node before taking it, so a lock covers only pointer moves.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "cmdq/cache.h"

namespace cmdq::cache {

class LruCache final : public Cache {
 public:
  static constexpr size_t kMaxShards = 16;
  static constexpr size_t kMinPerShard = 64;

  explicit LruCache(size_t capacity);

  std::optional<Record> Get(CommandId id) override;
  void Put(const Record& record) override;
  void Erase(CommandId id) override;

  size_t size() const;  // records held now, for tests and metrics

 private:
  struct Node {
    uint64_t id;
    std::shared_ptr<const Record> record;
  };
  using List = std::list<Node>;

  struct alignas(64) Shard {
    mutable std::mutex mu;
    size_t capacity = 0;
    List order;                                          // most recently used first; guarded by mu
    std::unordered_map<uint64_t, List::iterator> index;  // guarded by mu
  };

  Shard& ShardFor(uint64_t id) const;

  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace cmdq::cache
