// Test helpers of the RocksDB store: a fresh temporary directory per test (removed after),
// commands with given ids, and the test scale.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

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

// Reads or sets (nullopt: deletes) a `meta` value of the closed store at `path`, behind
// its back. Errors abort the test program: they mean the test itself is broken.
std::optional<std::string> ReadMeta(const std::string& path, const std::string& name);
void WriteMeta(const std::string& path, const std::string& name,
               const std::optional<std::string>& value);

}  // namespace cmdq::rocksdb_store::testing
