#include "store/rocksdb/test_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

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

}  // namespace cmdq::rocksdb_store::testing
