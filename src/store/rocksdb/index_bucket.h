// Index buckets (docs/storage.md, "Index"): a checkpoint writes one `index` entry per key
// (and per type) of the commands it indexes, instead of one entry per command. The entry's
// key ends with the bucket's lowest id; its value holds the ids.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cmdq/status.h"

namespace cmdq::rocksdb_store {

// `ids`: ascending, distinct, at least one. Value: a varint count, then count - 1 varint
// gaps between neighbours (each at least 1); the first id is in the key.
std::string EncodeIdBucket(std::span<const uint64_t> ids);
// The ids of a bucket whose key ends with `lowest`, ascending. kCorruption for a value
// that is cut short, has a zero count or gap, overflows, or has bytes after the last gap.
Result<std::vector<uint64_t>> DecodeIdBucket(std::string_view value, uint64_t lowest);

}  // namespace cmdq::rocksdb_store
