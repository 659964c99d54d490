#include "store/rocksdb/test_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/utilities/options_util.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace cmdq::rocksdb_store::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/cmdq-rocksdb-XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr) << "mkdtemp " << tmpl;
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  // A test may have taken permissions away; give them back so removal works.
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(path_, ec);
}

size_t Scaled(size_t n, size_t min) {
  const char* s = std::getenv("CMDQ_TEST_SCALE");
  if (s == nullptr) return n;
  return std::max(min, static_cast<size_t>(static_cast<double>(n) * std::atof(s)));
}

std::shared_ptr<const Command> MakeCommand(uint64_t id, std::string key, std::string type) {
  auto c = std::make_shared<Command>();
  c->id = CommandId(id);
  c->key = std::move(key);
  c->type = std::move(type);
  c->payload = "payload-" + std::to_string(id);
  c->headers = {{"h", "v"}};
  c->created_at_us = static_cast<int64_t>(id);
  return c;
}

RocksDbStoreOptions TestOptions(std::string path) {
  return RocksDbStoreOptions{.path = std::move(path),
                             .write_buffer_bytes = size_t{4} << 20,
                             .block_cache_bytes = size_t{8} << 20};
}

void WithRawStore(const std::string& path, bool read_only, const RawStoreFn& f) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* n : {"default", "meta", "commands", "status", "index"}) {
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, cfs, &handles, &db)
                : rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "cannot open %s raw: %s\n", path.c_str(), s.ToString().c_str());
    std::abort();
  }
  f(*db, handles);
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  delete db;
}

std::optional<std::string> ReadMeta(const std::string& path, const std::string& name) {
  std::optional<std::string> out;
  WithRawStore(path, true, [&](rocksdb::DB& db, const auto& cfs) {
    std::string value;
    if (db.Get(rocksdb::ReadOptions(), cfs[1], name, &value).ok()) out = value;
  });
  return out;
}

void WriteMeta(const std::string& path, const std::string& name,
               const std::optional<std::string>& value) {
  WithRawStore(path, false, [&](rocksdb::DB& db, const auto& cfs) {
    rocksdb::Status s = value ? db.Put(rocksdb::WriteOptions(), cfs[1], name, *value)
                              : db.Delete(rocksdb::WriteOptions(), cfs[1], name);
    if (!s.ok()) std::abort();
  });
}

rocksdb::DBOptions RecordedDbOptions(const std::string& path) {
  rocksdb::ConfigOptions config;
  config.ignore_unknown_options = true;
  rocksdb::DBOptions db;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  const rocksdb::Status s = rocksdb::LoadLatestOptions(config, path, &db, &families);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return db;
}

}  // namespace cmdq::rocksdb_store::testing
