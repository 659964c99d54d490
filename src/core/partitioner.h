// Partitioner: which partition (queue, shard) a key belongs to.
//
// partition = JumpConsistentHash(XXH3_64bits(key), partitions). Jump hash moves only
// 1/(P+1) of the keys when P grows by one, and all of them to the new partition, so
// resizing keeps most keys where their queue and their order already are.
// Pure functions; thread-safe. The values are persisted (shards), so they never change.
#pragma once

#include <cstdint>
#include <string_view>

namespace cmdq {

// XXH3_64bits of the key's bytes (seed 0).
uint64_t KeyHash(std::string_view key);

// Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm" (2014).
// Returns a bucket in [0, buckets); buckets must be >= 1 (0 is treated as 1).
uint32_t JumpConsistentHash(uint64_t key, uint32_t buckets);

// The partition of `key` among `partitions` (>= 1).
uint32_t PartitionOf(std::string_view key, uint32_t partitions);

}  // namespace cmdq
