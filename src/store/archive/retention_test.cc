// RunRetentionOnce and RetentionJob over a real RocksDB store with a manual clock:
// only terminal records older than the cutoff go, never an unfinished one; a crash
// between archive and delete loses nothing; archives restore.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "cmdq/archive.h"
#include "cmdq/rocksdb_store.h"
#include "store/rocksdb/test_dir.h"

namespace cmdq {
namespace {

using rocksdb_store::testing::TempDir;
using rocksdb_store::testing::TestOptions;
using namespace std::chrono_literals;

constexpr int64_t kHourMs = 3'600'000;

// Fails DeleteRange: what a crash between writing the archive and deleting looks like.
class NoDeleteStore final : public Store {
 public:
  explicit NoDeleteStore(Store& inner) : inner_(inner) {}
  Status Write(const StoreBatch& b, const WriteOptions& o) override { return inner_.Write(b, o); }
  Result<Record> Get(CommandId id) const override { return inner_.Get(id); }
  Result<ListPage> List(const ListQuery& q) const override { return inner_.List(q); }
  Result<std::vector<AuditEvent>> Audit(CommandId id) const override { return inner_.Audit(id); }
  Result<std::vector<Record>> Unfinished() const override { return inner_.Unfinished(); }
  Result<std::vector<StoredCommand>> Scan(CommandId f, CommandId t, size_t n) const override {
    return inner_.Scan(f, t, n);
  }
  Status DeleteRange(CommandId, CommandId) override {
    return {StatusCode::kIoError, "simulated crash before the delete"};
  }

 private:
  Store& inner_;
};

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = OpenRocksDbStore(TestOptions(dir_.Sub("db")));
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
    options_.archive_dir = dir_.Sub("archive");
    options_.retention = std::chrono::milliseconds(5 * kHourMs);
    options_.page_records = 7;  // many pages even in small tests
  }
  int64_t NowMs() const { return clock_.NowMicros() / 1000; }
  // An id made `hours_ago` hours before now, plus `seq`.
  uint64_t IdAgo(double hours_ago, uint64_t seq = 0) const {
    return CommandId::FirstAt(NowMs() - static_cast<int64_t>(hours_ago * kHourMs)).value() + seq;
  }
  void Insert(uint64_t id, State state = State::kPending) {
    auto c = std::make_shared<Command>();
    c->id = CommandId(id);
    c->type = "t";
    c->key = "user-" + std::to_string(id % 5);
    c->payload = "payload-" + std::to_string(id);
    StoreBatch b;
    b.Insert(std::move(c), state, clock_.NowMicros());
    ASSERT_TRUE(store_->Write(b, {}).ok());
  }
  void Move(uint64_t id, State from, State to) {
    StoreBatch b;
    b.Apply({.id = CommandId(id),
             .from = from,
             .to = to,
             .time_us = clock_.NowMicros(),
             .attempt = 1,
             .result = to == State::kSucceeded ? std::optional<std::string>("ok") : std::nullopt});
    ASSERT_TRUE(store_->Write(b, {}).ok());
  }
  void InsertDone(uint64_t id) {
    Insert(id);
    Move(id, State::kPending, State::kRunning);
    Move(id, State::kRunning, State::kSucceeded);
  }
  bool Present(uint64_t id) { return store_->Get(CommandId(id)).has_value(); }
  // Every id in every archive file of the directory (with repeats).
  std::multiset<uint64_t> ArchivedIds() {
    std::multiset<uint64_t> ids;
    auto list = ListArchives(options_.archive_dir);
    EXPECT_TRUE(list.has_value());
    for (const ArchiveInfo& info : list.value_or(std::vector<ArchiveInfo>{})) {
      EXPECT_TRUE(info.check.ok()) << info.check.ToString();
      auto r = ReadArchive(info.path, [&](const StoredCommand& s) {
        ids.insert(s.record.command.id.value());
        return Status::Ok();
      });
      EXPECT_TRUE(r.has_value());
    }
    return ids;
  }
  Result<ArchiveReport> RunOnce(Store& store) { return RunRetentionOnce(store, options_, clock_); }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  RetentionOptions options_;
};

TEST_F(RetentionTest, ArchivesOnlyTerminalRecordsOlderThanTheCutoff) {
  std::vector<uint64_t> old_done;
  for (uint64_t i = 0; i < 20; ++i) old_done.push_back(IdAgo(10, i));
  for (uint64_t id : old_done) InsertDone(id);
  const uint64_t cancelled = IdAgo(9);
  Insert(cancelled);
  Move(cancelled, State::kPending, State::kCancelled);
  const uint64_t recent = IdAgo(1);
  InsertDone(recent);

  auto report = RunOnce(*store_);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->archived, 21u);
  EXPECT_EQ(report->files.size(), 1u);
  for (uint64_t id : old_done) EXPECT_FALSE(Present(id));
  EXPECT_FALSE(Present(cancelled));
  EXPECT_TRUE(Present(recent));
  std::multiset<uint64_t> ids = ArchivedIds();
  EXPECT_EQ(ids.size(), 21u);
  EXPECT_EQ(ids.count(recent), 0u);

  clock_.Advance(5 * kHourMs * 1000);  // now `recent` is 6 hours old
  report = RunOnce(*store_);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->archived, 1u);
  EXPECT_FALSE(Present(recent));
  EXPECT_EQ(ArchivedIds().size(), 22u);
}

TEST_F(RetentionTest, KeepsAnUnfinishedCommandWithAnOldIdAndArchivesAroundIt) {
  const uint64_t before = IdAgo(12);
  InsertDone(before);
  const uint64_t scheduled = IdAgo(11);  // old id, runs in the future
  Insert(scheduled, State::kScheduled);
  const uint64_t after = IdAgo(10);
  InsertDone(after);
  const uint64_t running = IdAgo(9);
  Insert(running);
  Move(running, State::kPending, State::kRunning);
  const uint64_t last = IdAgo(8);
  InsertDone(last);

  auto report = RunOnce(*store_);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  // Everything finished goes, in files that end before each unfinished command.
  EXPECT_EQ(report->archived, 3u);
  EXPECT_EQ(report->files.size(), 3u);
  EXPECT_FALSE(Present(before));
  EXPECT_TRUE(Present(scheduled));
  EXPECT_FALSE(Present(after));
  EXPECT_TRUE(Present(running));
  EXPECT_FALSE(Present(last));
  // The next run starts at the oldest command left in place.
  EXPECT_EQ(report->covered_to, CommandId(scheduled));

  Move(scheduled, State::kScheduled, State::kPending);
  Move(scheduled, State::kPending, State::kRunning);
  Move(scheduled, State::kRunning, State::kSucceeded);
  report = RunRetentionOnce(*store_, options_, clock_, report->covered_to);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->archived, 1u);
  EXPECT_FALSE(Present(scheduled));
  EXPECT_TRUE(Present(running));
  EXPECT_EQ(report->covered_to, CommandId(running));
  std::multiset<uint64_t> ids = ArchivedIds();
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids.count(running), 0u);
}

TEST_F(RetentionTest, CrashBetweenArchiveAndDeleteLosesNothing) {
  std::set<uint64_t> all;
  for (uint64_t i = 0; i < 30; ++i) {
    InsertDone(IdAgo(8, i));
    all.insert(IdAgo(8, i));
  }
  NoDeleteStore crashing(*store_);
  auto failed = RunOnce(crashing);
  ASSERT_FALSE(failed.has_value());
  for (uint64_t id : all) EXPECT_TRUE(Present(id));  // archived, still in the store
  EXPECT_EQ(ArchivedIds().size(), 30u);

  // More becomes old before the next run: its file covers a wider range.
  for (uint64_t i = 0; i < 5; ++i) {
    InsertDone(IdAgo(4, i));
    all.insert(IdAgo(4, i));
  }
  clock_.Advance(2 * kHourMs * 1000);
  auto report = RunOnce(*store_);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->archived, 35u);
  for (uint64_t id : all) EXPECT_FALSE(Present(id));
  std::multiset<uint64_t> ids = ArchivedIds();
  EXPECT_EQ(ids.size(), 65u);  // the first 30 twice
  for (uint64_t id : all) EXPECT_GE(ids.count(id), 1u) << id;

  // Restoring both files: the second one's repeats are refused, nothing is lost.
  auto list = ListArchives(options_.archive_dir);
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  for (size_t f = 0; f < 2; ++f) {
    std::vector<StoredCommand> records;
    ASSERT_TRUE(ReadArchive((*list)[f].path, [&](const StoredCommand& s) {
                  records.push_back(s);
                  return Status::Ok();
                }).has_value());
    Status s = store_->Restore(records);
    if (f == 0) {
      EXPECT_TRUE(s.ok()) << s.ToString();
    } else {
      EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
    }
  }
}

TEST_F(RetentionTest, RestoredRecordsAreWhatWasArchived) {
  const uint64_t id = IdAgo(7);
  InsertDone(id);
  auto original = store_->Get(CommandId(id));
  auto original_audit = store_->Audit(CommandId(id));
  ASSERT_TRUE(original.has_value() && original_audit.has_value());
  ASSERT_TRUE(RunOnce(*store_).has_value());
  ASSERT_FALSE(Present(id));
  std::vector<StoredCommand> records;
  auto list = ListArchives(options_.archive_dir);
  ASSERT_TRUE(list.has_value() && list->size() == 1u);
  ASSERT_TRUE(ReadArchive((*list)[0].path, [&](const StoredCommand& s) {
                records.push_back(s);
                return Status::Ok();
              }).has_value());
  ASSERT_TRUE(store_->Restore(records).ok());
  auto back = store_->Get(CommandId(id));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->command.payload, original->command.payload);
  EXPECT_EQ(back->state, State::kSucceeded);
  EXPECT_EQ(back->result, "ok");
  EXPECT_EQ(back->updated_at_us, original->updated_at_us);
  auto audit = store_->Audit(CommandId(id));
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), original_audit->size());
  for (size_t i = 0; i < audit->size(); ++i) {
    EXPECT_EQ((*audit)[i].to, (*original_audit)[i].to);
    EXPECT_EQ((*audit)[i].time_us, (*original_audit)[i].time_us);
  }
  EXPECT_EQ(store_->Restore(records).code(), StatusCode::kAlreadyExists);
}

TEST_F(RetentionTest, SplitsLargeRunsIntoFilesAndDeletesEachRange) {
  for (uint64_t i = 0; i < 35; ++i) InsertDone(IdAgo(6, i));
  options_.max_records_per_file = 10;
  auto report = RunOnce(*store_);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->archived, 35u);
  EXPECT_EQ(report->files.size(), 4u);
  auto list = ListArchives(options_.archive_dir);
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 4u);
  EXPECT_EQ((*list)[3].records, 5u);
  EXPECT_EQ(ArchivedIds().size(), 35u);
  EXPECT_TRUE(store_->Scan(CommandId(1), CommandId(~uint64_t{0}), 100)->empty());
}

TEST_F(RetentionTest, LeftoverTemporaryFilesAreRemoved) {
  std::filesystem::create_directories(options_.archive_dir);
  const std::string leftover = options_.archive_dir + "/.cmdq-archive-1-999999999-0.partial";
  { std::ofstream(leftover) << "half a file"; }
  ASSERT_TRUE(RunOnce(*store_).has_value());
  EXPECT_FALSE(std::filesystem::exists(leftover));
}

TEST_F(RetentionTest, JobRunsPeriodicallyUntilStopped) {
  for (uint64_t i = 0; i < 10; ++i) InsertDone(IdAgo(6, i));
  options_.interval = 1ms;
  RetentionJob job(*store_, options_, clock_);
  ASSERT_TRUE(job.Start().ok());
  EXPECT_EQ(job.Start().code(), StatusCode::kFailedPrecondition);
  for (int i = 0; i < 5000 && job.Totals().archived < 10; ++i) std::this_thread::sleep_for(1ms);
  job.Stop();
  EXPECT_EQ(job.Totals().archived, 10u);
  EXPECT_TRUE(job.LastError().ok()) << job.LastError().ToString();
}

}  // namespace
}  // namespace cmdq
