// How RocksDB's errors become cmdq Status values: the code says what a caller can do
// (kResourceExhausted: free disk space; kIoError: the OS refused; kCorruption: an
// operator must look), the message names the data directory. Thread-safe.
#pragma once

#include <rocksdb/status.h>

#include <string_view>

#include "cmdq/status.h"

namespace cmdq::rocksdb_store {

// `what` says what was being done, e.g. "write", "open". OK maps to OK.
Status FromRocks(const rocksdb::Status& s, std::string_view path, std::string_view what);

}  // namespace cmdq::rocksdb_store
