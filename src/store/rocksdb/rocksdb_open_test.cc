// Open-time errors of the RocksDB store: each names the path, says what to do, and
// leaves the directory as it was. Also the write-ahead log recovery choice (0005).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cmdq/rocksdb_store.h"
#include "store/rocksdb/direct_io.h"
#include "store/rocksdb/test_dir.h"

namespace cmdq::rocksdb_store {
namespace {

namespace fs = std::filesystem;
using testing::MakeCommand;
using testing::TempDir;
using testing::TestOptions;

std::string ReadFile(const fs::path& p) {
  // Sized read rather than istreambuf_iterator: g++ 12 warns of a null dereference there.
  std::string out(fs::file_size(p), '\0');
  std::ifstream(p, std::ios::binary).read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}
void WriteFile(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

Status OpenStatus(RocksDbStoreOptions options) {
  auto s = OpenRocksDbStore(std::move(options));
  return s ? Status::Ok() : s.error();
}

// Makes a store at `path` holding commands 1..n (synced), then closes it.
void MakeStore(const std::string& path, uint64_t n) {
  auto store = OpenRocksDbStore(TestOptions(path));
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  for (uint64_t id = 1; id <= n; ++id) {
    StoreBatch b;
    b.Insert(MakeCommand(id), State::kPending, 0);
    ASSERT_TRUE((*store)->Write(b, {.sync = true}).ok());
  }
}

// Sets meta's format_version of the store at `path` behind the store's back.
void SetFormatVersion(const std::string& path, const std::string& version) {
  testing::WriteMeta(path, "format_version", version);
}

fs::path OnlyFile(const std::string& dir, const std::string& prefix, const std::string& suffix) {
  fs::path found;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(suffix)) found = e.path();
  }
  return found;
}

TEST(RocksDbOpen, CreatesAMissingDirectoryOnlyWhenAllowed) {
  TempDir dir;
  auto options = TestOptions(dir.Sub("a/b"));
  options.create_if_missing = false;
  Status s = OpenStatus(options);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find(dir.Sub("a/b")), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(dir.Sub("a")));
  options.create_if_missing = true;
  EXPECT_TRUE(OpenStatus(options).ok()) << OpenStatus(options).ToString();
  options.create_if_missing = false;
  EXPECT_TRUE(OpenStatus(options).ok()) << OpenStatus(options).ToString();  // now it exists
}

// What the store told RocksDB, as RocksDB itself recorded it in the OPTIONS file.
TEST(RocksDbOpen, WritesTableFilesBackAMibAtATime) {
  TempDir dir;
  MakeStore(dir.Sub("db"), 1);
  const rocksdb::DBOptions db = testing::RecordedDbOptions(dir.Sub("db"));
  // RocksDB itself raises bytes_per_sync to 1 MiB when a rate limiter is set, so the
  // store's own choice shows in strict_bytes_per_sync.
  EXPECT_EQ(db.bytes_per_sync, uint64_t{1} << 20);
  EXPECT_TRUE(db.strict_bytes_per_sync);
  // The directory's file system decides whether tables are written with O_DIRECT.
  EXPECT_EQ(db.use_direct_io_for_flush_and_compaction, SupportsDirectIo(dir.path()));
}

TEST(RocksDbOpen, RefusesAnEmptyPathAndAFile) {
  EXPECT_EQ(OpenStatus(TestOptions("")).field(), "path");
  TempDir dir;
  WriteFile(dir.Sub("file"), "x");
  Status s = OpenStatus(TestOptions(dir.Sub("file")));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("is a file"), std::string::npos) << s.message();
  EXPECT_EQ(ReadFile(dir.Sub("file")), "x");
}

TEST(RocksDbOpen, RefusesANonEmptyDirectoryThatIsNotAStore) {
  TempDir dir;
  WriteFile(dir.Sub("notes.txt"), "mine");
  Status s = OpenStatus(TestOptions(dir.path()));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find(dir.path()), std::string::npos) << s.message();
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(RocksDbOpen, RefusesAnotherRocksDbDatabase) {
  TempDir dir;
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, dir.Sub("other"), &db).ok());
  delete db;
  Status s = OpenStatus(TestOptions(dir.Sub("other")));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("not a cmdq store"), std::string::npos) << s.message();
}

TEST(RocksDbOpen, RefusesADirectoryThatIsNotWritable) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes through any permission bits";
  TempDir dir;
  fs::create_directory(dir.Sub("ro"));
  fs::permissions(dir.Sub("ro"), fs::perms::owner_read | fs::perms::owner_exec);
  Status s = OpenStatus(TestOptions(dir.Sub("ro")));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("not writable"), std::string::npos) << s.message();
  s = OpenStatus(TestOptions(dir.Sub("ro/db")));  // cannot be created inside either
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
}

TEST(RocksDbOpen, RefusesAReadOnlyFileSystem) {
  // Root ignores permission bits but not a read-only mount: /proc/sys is one in most
  // containers. Skipped where it is writable.
  if (::access("/proc/sys", W_OK) == 0) GTEST_SKIP() << "/proc/sys is writable here";
  Status s = OpenStatus(TestOptions("/proc/sys/cmdq-db"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("not writable"), std::string::npos) << s.message();
}

TEST(RocksDbOpen, RefusesADirectoryOpenInThisProcess) {
  TempDir dir;
  auto first = OpenRocksDbStore(TestOptions(dir.Sub("db")));
  ASSERT_TRUE(first.has_value());
  Status s = OpenStatus(TestOptions(dir.Sub("db")));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(dir.Sub("db")), std::string::npos) << s.message();
  first->reset();
  EXPECT_TRUE(OpenStatus(TestOptions(dir.Sub("db"))).ok());  // released at close
}

// The child half of RefusesADirectoryOpenInAnotherProcess: holds the store open, says so
// on the pipe CMDQ_HOLD_FD, and waits until its stdin closes. Run only by that test.
TEST(RocksDbOpen, DISABLED_HoldOpenForAnotherProcess) {
  const char* path = std::getenv("CMDQ_HOLD_STORE");
  const char* fd = std::getenv("CMDQ_HOLD_FD");
  ASSERT_TRUE(path != nullptr && fd != nullptr);
  auto store = OpenRocksDbStore(TestOptions(path));
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  ASSERT_EQ(::write(std::atoi(fd), "R", 1), 1);
  char c;
  while (::read(STDIN_FILENO, &c, 1) > 0) {
  }
}

TEST(RocksDbOpen, RefusesADirectoryOpenInAnotherProcess) {
  TempDir dir;
  MakeStore(dir.Sub("db"), 3);
  int to_child[2];
  int from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // A fresh process image: nothing of this one's threads or RocksDB state comes along.
    ::dup2(to_child[0], STDIN_FILENO);
    ::close(to_child[1]);
    ::close(from_child[0]);
    ::setenv("CMDQ_HOLD_STORE", dir.Sub("db").c_str(), 1);
    ::setenv("CMDQ_HOLD_FD", std::to_string(from_child[1]).c_str(), 1);
    ::execl("/proc/self/exe", "rocksdb_store_test",
            "--gtest_filter=RocksDbOpen.DISABLED_HoldOpenForAnotherProcess",
            "--gtest_also_run_disabled_tests", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  char ready = 0;
  ASSERT_EQ(::read(from_child[0], &ready, 1), 1) << "the child could not open the store";
  Status s = OpenStatus(TestOptions(dir.Sub("db")));
  ::close(to_child[1]);  // lets the child close the store and exit
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  ::close(from_child[0]);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("another"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(dir.Sub("db")), std::string::npos) << s.message();
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  EXPECT_TRUE(OpenStatus(TestOptions(dir.Sub("db"))).ok());
}

TEST(RocksDbOpen, RefusesANewerFormatVersionAndLeavesIt) {
  TempDir dir;
  MakeStore(dir.Sub("db"), 2);
  SetFormatVersion(dir.Sub("db"), "3");
  Status s = OpenStatus(TestOptions(dir.Sub("db")));
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("newer"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(dir.Sub("db")), std::string::npos) << s.message();
  // Still refused the second time: nothing was rewritten to an older version.
  EXPECT_EQ(OpenStatus(TestOptions(dir.Sub("db"))).code(), StatusCode::kCorruption);
  SetFormatVersion(dir.Sub("db"), "x1");
  EXPECT_EQ(OpenStatus(TestOptions(dir.Sub("db"))).code(), StatusCode::kCorruption);
}

TEST(RocksDbOpen, RefusesAGarbageCurrentFileAndDoesNotRepairIt) {
  TempDir dir;
  MakeStore(dir.Sub("db"), 2);
  WriteFile(dir.Sub("db/CURRENT"), "garbage\n");
  Status s = OpenStatus(TestOptions(dir.Sub("db")));
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find(dir.Sub("db")), std::string::npos) << s.message();
  EXPECT_EQ(ReadFile(dir.Sub("db/CURRENT")), "garbage\n");
}

TEST(RocksDbOpen, RefusesAGarbageManifest) {
  TempDir dir;
  MakeStore(dir.Sub("db"), 2);
  fs::path manifest = OnlyFile(dir.Sub("db"), "MANIFEST-", "");
  ASSERT_FALSE(manifest.empty());
  std::string garbage(4096, '\x5a');
  WriteFile(manifest, garbage);
  Status s = OpenStatus(TestOptions(dir.Sub("db")));
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_EQ(ReadFile(manifest), garbage);
}

TEST(RocksDbOpen, RefusesRocksDbFilesWithoutCurrent) {
  TempDir dir;
  MakeStore(dir.Sub("db"), 2);
  fs::remove(dir.Sub("db/CURRENT"));
  Status s = OpenStatus(TestOptions(dir.Sub("db")));
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_FALSE(fs::exists(dir.Sub("db/CURRENT")));  // no new empty store over the old one
}

// ---- Write-ahead log recovery (docs/decisions/0005-rocksdb-wal-recovery.md).

size_t CountRecords(const std::string& path) {
  auto store = OpenRocksDbStore(TestOptions(path));
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
  if (!store) return 0;
  return (*store)->List({.limit = 1000})->records.size();
}

TEST(RocksDbWalRecovery, DropsATornTailAndKeepsEverySyncedWrite) {
  TempDir dir;
  MakeStore(dir.Sub("db"), 50);
  fs::path wal = OnlyFile(dir.Sub("db"), "", ".log");
  ASSERT_FALSE(wal.empty());
  // A crash in the middle of appending the next record: its first bytes only.
  std::ofstream(wal, std::ios::binary | std::ios::app)
      << std::string("\x12\x34\x56\x78\x40\x00", 6);
  EXPECT_EQ(CountRecords(dir.Sub("db")), 50u);
}

TEST(RocksDbWalRecovery, DropsARecordCutShort) {
  TempDir dir;
  MakeStore(dir.Sub("db"), 50);
  fs::path wal = OnlyFile(dir.Sub("db"), "", ".log");
  fs::resize_file(wal, fs::file_size(wal) - 10);  // the last (unacknowledged) write torn
  EXPECT_EQ(CountRecords(dir.Sub("db")), 49u);
}

TEST(RocksDbWalRecovery, RefusesDamageInTheMiddleUnlessToldToDropIt) {
  TempDir dir;
  MakeStore(dir.Sub("db"), 50);
  fs::path wal = OnlyFile(dir.Sub("db"), "", ".log");
  std::string bytes = ReadFile(wal);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  WriteFile(wal, bytes);
  Status s = OpenStatus(TestOptions(dir.Sub("db")));
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("kPointInTime"), std::string::npos) << s.message();
  EXPECT_EQ(ReadFile(wal), bytes);  // left for the operator
  auto options = TestOptions(dir.Sub("db"));
  options.wal_recovery = WalRecovery::kPointInTime;
  auto store = OpenRocksDbStore(options);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  size_t kept = (*store)->List({.limit = 1000})->records.size();
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, 50u);  // what followed the damage is gone: the operator's choice
}

}  // namespace
}  // namespace cmdq::rocksdb_store
