#include "core/partitioner.h"

#include <xxhash.h>

namespace cmdq {

uint64_t KeyHash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

uint32_t JumpConsistentHash(uint64_t key, uint32_t buckets) {
  // The published algorithm, unchanged: its outputs are what shards were laid out by.
  int64_t b = -1;
  int64_t j = 0;
  while (j < static_cast<int64_t>(buckets)) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<int64_t>(static_cast<double>(b + 1) * (static_cast<double>(int64_t{1} << 31) /
                                                           static_cast<double>((key >> 33) + 1)));
  }
  return b < 0 ? 0 : static_cast<uint32_t>(b);
}

uint32_t PartitionOf(std::string_view key, uint32_t partitions) {
  return JumpConsistentHash(KeyHash(key), partitions);
}

}  // namespace cmdq
