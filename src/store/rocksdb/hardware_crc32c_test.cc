// The hardware crc32c gives RocksDB's own results, and RocksDB's calls reach it.
#include "store/rocksdb/hardware_crc32c.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <memory>
#include <random>
#include <string>

#include "store/rocksdb/test_dir.h"

namespace cmdq::rocksdb_store {
namespace {

TEST(HardwareCrc32c, GivesTheCheckValueOfCrc32c) {
  // The standard check value of CRC-32C (Castagnoli) over "123456789".
  EXPECT_EQ(CMDQ_WRAPPED_CRC32C_EXTEND(0, "123456789", 9), 0xE3069283u);
  EXPECT_EQ(CMDQ_REAL_CRC32C_EXTEND(0, "123456789", 9), 0xE3069283u);
  EXPECT_TRUE(HardwareCrc32cAgrees());
}

TEST(HardwareCrc32c, MatchesRocksDbsSoftwareOnRandomInput) {
  std::mt19937_64 random(7);
  std::string data(70'000, '\0');
  for (char& c : data) c = static_cast<char>(random());
  for (int i = 0; i < 2000; ++i) {
    const size_t offset = random() % 64;  // unaligned starts
    const size_t size = i < 100 ? static_cast<size_t>(i) : random() % (data.size() - 64);
    const auto init = static_cast<uint32_t>(random());
    ASSERT_EQ(CMDQ_WRAPPED_CRC32C_EXTEND(init, data.data() + offset, size),
              CMDQ_REAL_CRC32C_EXTEND(init, data.data() + offset, size))
        << "offset " << offset << ", size " << size;
  }
}

// The link sends RocksDB's own calls here: a synced write checksums its WAL record on the
// writing thread (a lone writer without pipelined writes writes the WAL itself).
TEST(HardwareCrc32c, RocksDbsWalWritesReachIt) {
  testing::TempDir dir;
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir.Sub("db"), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  const uint64_t before = HardwareCrc32cCallsOnThisThread();
  rocksdb::WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(db->Put(sync, "key", "value").ok());
  EXPECT_GT(HardwareCrc32cCallsOnThisThread(), before);
  std::string value;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), "key", &value).ok());
  EXPECT_EQ(value, "value");
}

}  // namespace
}  // namespace cmdq::rocksdb_store
