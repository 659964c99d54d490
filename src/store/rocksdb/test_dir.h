// Test helpers of the RocksDB store: a fresh temporary directory per test (removed after),
// commands with given ids, and the test scale.
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cmdq/command.h"
#include "cmdq/rocksdb_store.h"

namespace cmdq::rocksdb_store::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside it that does not exist yet: where a store is created.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Test sizes shrink under sanitizers: CMDQ_TEST_SCALE=0.05 runs 5% of the work.
size_t Scaled(size_t n, size_t min = 100);

std::shared_ptr<const Command> MakeCommand(uint64_t id, std::string key = "k",
                                           std::string type = "t");

// Options of a store at `path` sized for tests (small memtables).
RocksDbStoreOptions TestOptions(std::string path);

// Runs f(db, handles) on the closed store at `path`, opened behind its back with
// RocksDB's own API; `handles` are its column families in the order default, meta,
// commands, status, index. A store that does not open aborts the test program: the test
// itself is broken.
using RawStoreFn =
    std::function<void(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& cfs)>;
void WithRawStore(const std::string& path, bool read_only, const RawStoreFn& f);

// The database options of the store at `path` as RocksDB recorded them in its latest
// OPTIONS file (what the store told RocksDB, after RocksDB's own adjustments).
rocksdb::DBOptions RecordedDbOptions(const std::string& path);

// Reads or sets (nullopt: deletes) a `meta` value of the closed store at `path`.
std::optional<std::string> ReadMeta(const std::string& path, const std::string& name);
void WriteMeta(const std::string& path, const std::string& name,
               const std::optional<std::string>& value);

}  // namespace cmdq::rocksdb_store::testing
