// Checks of the data directory made before RocksDB touches it, so that a wrong path gets
// an error that names it and says what to do, and RocksDB creates nothing in the wrong
// place. Thread-safe (reads the file system only).
#pragma once

#include <string>

#include "cmdq/status.h"

namespace cmdq::rocksdb_store {

enum class DirState {
  kAbsent,  // to be created (create_if_missing allowed it)
  kEmpty,   // exists, holds nothing of value: a new store goes there
  kStore,   // holds a RocksDB database (its CURRENT file)
};

// kInvalidArgument: empty path, or a file. kNotFound: missing and !create_if_missing.
// kFailedPrecondition: not writable, or not empty and not a store. kCorruption: RocksDB
// files without a CURRENT file. kIoError: the OS refused to tell.
Result<DirState> CheckDataDirectory(const std::string& path, bool create_if_missing);

}  // namespace cmdq::rocksdb_store
