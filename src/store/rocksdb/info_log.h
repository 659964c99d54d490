// RocksDB's info log, sent to standard error (warnings and errors only) instead of the
// LOG file in the data directory. Debian's RocksDB 7.8 is built with assertions on: when
// the disk fills, appending to its own LOG file fails and the next append aborts the
// process (WritableFileWriter's "sync_without_flush_called_" assertion, seen in
// tests/durable/disk_full_test.cc). A full disk must refuse writes, never crash.
#pragma once

#include <rocksdb/env.h>

#include <memory>

namespace cmdq::rocksdb_store {

std::shared_ptr<rocksdb::Logger> NewStderrInfoLog();

}  // namespace cmdq::rocksdb_store
