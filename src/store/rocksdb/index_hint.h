// The memtable insert hint of the `index` family: an entry's prefix is its key without the
// trailing id (tag, length, key or type). A key's (type's) entries arrive in id order, so
// each lands right after the previous entry of the same prefix, and RocksDB's per-prefix
// hint skips the skip-list search from the top. Without it, index entries were the most
// expensive inserts of a durable submit (random positions in a large memtable).
// Only the memtable uses it: the files' format does not change.
#pragma once

#include <rocksdb/slice_transform.h>

#include <memory>

namespace cmdq::rocksdb_store {

std::shared_ptr<const rocksdb::SliceTransform> NewIndexHintPrefix();

}  // namespace cmdq::rocksdb_store
