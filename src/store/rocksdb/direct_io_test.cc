#include "store/rocksdb/direct_io.h"

#include <gtest/gtest.h>
#include <sys/vfs.h>

#include <filesystem>

#include "cmdq/rocksdb_store.h"
#include "store/rocksdb/test_dir.h"

namespace cmdq::rocksdb_store {
namespace {

namespace fs = std::filesystem;

constexpr long kTmpfsMagic = 0x01021994;

// A fresh directory on tmpfs (which refuses O_DIRECT), or "" when there is none.
std::string TmpfsDir() {
  struct statfs s {};
  if (::statfs("/dev/shm", &s) != 0 || s.f_type != kTmpfsMagic) return "";
  std::string dir = "/dev/shm/cmdq-direct-io-XXXXXX";
  return ::mkdtemp(dir.data()) != nullptr ? dir : "";
}

TEST(DirectIo, TheProbeLeavesNothingBehind) {
  testing::TempDir dir;
  SupportsDirectIo(dir.path());
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

// tmpfs refuses O_DIRECT before Linux 6.6 (Debian 12's own kernel is 6.1) and takes it
// after: either way a store there goes on writing through memtable flushes, and
// everything reads back after a reopen.
TEST(DirectIo, AStoreOnTmpfsFlushesItsTables) {
  const std::string dir = TmpfsDir();
  if (dir.empty()) GTEST_SKIP() << "no tmpfs at /dev/shm";
  RecordProperty("direct_io", SupportsDirectIo(dir) ? "yes" : "no");
  constexpr uint64_t kCommands = 3000;  // ~6 MB of payloads: more than one 4 MB memtable
  {
    auto store = OpenRocksDbStore(testing::TestOptions(dir + "/db"));
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    for (uint64_t id = 1; id <= kCommands; ++id) {
      auto c = std::make_shared<Command>(*testing::MakeCommand(id));
      c->payload.assign(2048, static_cast<char>('a' + id % 26));
      StoreBatch b;
      b.Insert(c, State::kPending, 0);
      ASSERT_TRUE((*store)->Write(b, {.sync = true}).ok()) << "command " << id;
    }
  }
  auto store = OpenRocksDbStore(testing::TestOptions(dir + "/db"));
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto first = (*store)->Get(CommandId(1));
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->command.payload, std::string(2048, 'b'));
  EXPECT_TRUE((*store)->Get(CommandId(kCommands)).has_value());
  int tables = 0;
  for (const auto& entry : fs::directory_iterator(dir + "/db")) {
    tables += entry.path().extension() == ".sst";
  }
  EXPECT_GT(tables, 0) << "no table file was written";
  store->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cmdq::rocksdb_store
