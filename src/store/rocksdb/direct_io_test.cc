#include "store/rocksdb/direct_io.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cmdq/rocksdb_store.h"
#include "store/rocksdb/test_dir.h"

namespace cmdq::rocksdb_store {
namespace {

namespace fs = std::filesystem;

TEST(DirectIo, TheProbeLeavesNothingBehind) {
  testing::TempDir dir;
  SupportsDirectIo(dir.path());
  EXPECT_TRUE(fs::is_empty(dir.path()));
  EXPECT_FALSE(SupportsDirectIo(dir.Sub("missing")));
}

// A probe file a crash left behind does not make the directory someone else's.
TEST(DirectIo, AProbeFileLeftBehindIsNoObstacle) {
  testing::TempDir dir;
  fs::create_directories(dir.Sub("db"));
  std::ofstream(dir.Sub("db") + "/" + kDirectIoProbeName) << "";
  auto store = OpenRocksDbStore(testing::TestOptions(dir.Sub("db")));
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
}

// Direct or through the page cache, a store writes on through memtable flushes and
// reads everything back after a reopen.
class TableWrites : public ::testing::TestWithParam<bool> {};

TEST_P(TableWrites, GoOnThroughFlushesAndReadBack) {
  testing::TempDir dir;
  RocksDbStoreOptions options = testing::TestOptions(dir.Sub("db"));
  options.direct_table_writes = GetParam();
  constexpr uint64_t kCommands = 3000;  // ~6 MB of payloads: more than one 4 MB memtable
  {
    auto store = OpenRocksDbStore(options);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    for (uint64_t id = 1; id <= kCommands; ++id) {
      auto c = std::make_shared<Command>(*testing::MakeCommand(id));
      c->payload.assign(2048, static_cast<char>('a' + id % 26));
      StoreBatch b;
      b.Insert(c, State::kPending, 0);
      ASSERT_TRUE((*store)->Write(b, {.sync = true}).ok()) << "command " << id;
    }
  }
  EXPECT_EQ(testing::RecordedDbOptions(dir.Sub("db")).use_direct_io_for_flush_and_compaction,
            GetParam() && SupportsDirectIo(dir.path()));
  auto store = OpenRocksDbStore(options);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto first = (*store)->Get(CommandId(1));
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->command.payload, std::string(2048, 'b'));
  EXPECT_TRUE((*store)->Get(CommandId(kCommands)).has_value());
  int tables = 0;
  for (const auto& entry : fs::directory_iterator(dir.Sub("db"))) {
    tables += entry.path().extension() == ".sst";
  }
  EXPECT_GT(tables, 0) << "no table file was written";
}

INSTANTIATE_TEST_SUITE_P(DirectAndBuffered, TableWrites, ::testing::Bool(),
                         [](const auto& test) { return test.param ? "Direct" : "Buffered"; });

}  // namespace
}  // namespace cmdq::rocksdb_store
