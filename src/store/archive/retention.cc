// RunRetentionOnce and RetentionJob (include/cmdq/archive.h): archive the terminal records
// below the cutoff, file by file, and delete each file's range only once the file is on
// disk (docs/archive.md, "Retention").
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "cmdq/archive.h"
#include "store/archive/archive_writer.h"
#include "store/archive/format.h"

namespace cmdq {
namespace {

using Steady = std::chrono::steady_clock;

double Since(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

// Temporary files of a writer that died (a crash mid-file): never renamed, so never part
// of the archive. This process's own are left alone (a writer of this process may be
// working on one).
void RemoveLeftovers(const std::string& dir) {
  const std::string mine = "-" + std::to_string(::getpid()) + "-";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(archive::kPartialPrefix) && name.ends_with(archive::kPartialSuffix) &&
        name.find(mine) == std::string::npos) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

CommandId After(CommandId id) { return CommandId(id.value() + 1); }

// One run's state: the open file, and the start of the range it covers.
class Run {
 public:
  Run(Store& store, const RetentionOptions& o, int64_t now_us, CommandId low, ArchiveReport& report)
      : store_(store), o_(o), now_us_(now_us), file_from_(low), report_(report) {}

  Status Add(const StoredCommand& s) {
    if (!writer_) {
      auto w = archive::ArchiveWriter::Create(
          o_.archive_dir, now_us_, {.zstd_level = o_.zstd_level, .frame_bytes = o_.frame_bytes});
      if (!w) return w.error();
      writer_ = std::move(*w);
    }
    if (Status st = writer_->Add(s); !st.ok()) return st;
    if (writer_->records() >= o_.max_records_per_file) {
      return Seal(After(s.record.command.id));
    }
    return Status::Ok();
  }

  // A record that may still run: the open file ends before it, and the next one starts
  // after it, so it stays in the store while everything around it goes.
  Status StepOver(CommandId live) {
    if (Status s = Seal(live); !s.ok()) return s;
    file_from_ = After(live);
    return Status::Ok();
  }

  // Finishes the open file (if any) and deletes [file_from_, to) from the store.
  Status Seal(CommandId to) {
    if (!writer_) return Status::Ok();
    auto info = writer_->Finish();
    writer_.reset();
    if (!info) return info.error();
    report_.archived += info->records;
    report_.archive_bytes += info->file_bytes;
    report_.files.push_back(info->path);
    const auto start = Steady::now();
    Status s = store_.DeleteRange(file_from_, to);
    report_.delete_seconds += Since(start);
    if (!s.ok()) return s;
    if (!report_.deleted_from.valid()) report_.deleted_from = file_from_;
    report_.deleted_to = to;
    file_from_ = to;
    return Status::Ok();
  }

 private:
  Store& store_;
  const RetentionOptions& o_;
  const int64_t now_us_;
  CommandId file_from_;
  ArchiveReport& report_;
  std::unique_ptr<archive::ArchiveWriter> writer_;
};

}  // namespace

Result<ArchiveReport> RunRetentionOnce(Store& store, const RetentionOptions& o, const Clock& clock,
                                       CommandId low) {
  if (o.archive_dir.empty()) {
    return Error(Status::InvalidArgument("archive_dir", "no archive directory given"));
  }
  if (o.page_records == 0 || o.max_records_per_file == 0) {
    return Error(Status::InvalidArgument("page_records", "page and file sizes must be positive"));
  }
  std::error_code ec;
  std::filesystem::create_directories(o.archive_dir, ec);
  if (ec) {
    return Error({StatusCode::kIoError,
                  "cannot create archive directory " + o.archive_dir + ": " + ec.message()});
  }
  RemoveLeftovers(o.archive_dir);
  const int64_t now_us = clock.NowMicros();
  const CommandId bound = CommandId::FirstAt(now_us / 1000 - o.retention.count());
  ArchiveReport report;
  if (bound <= low) return report;

  const auto start = Steady::now();
  Run run(store, o, now_us, low, report);
  CommandId first_live;  // the oldest record left in place: the next run starts there
  for (CommandId cursor = low; cursor < bound;) {
    auto page = store.Scan(cursor, bound, o.page_records);
    if (!page) return Error(std::move(page.error()));
    for (const StoredCommand& s : *page) {
      const CommandId id = s.record.command.id;
      if (IsTerminal(s.record.state)) {
        if (Status st = run.Add(s); !st.ok()) return Error(std::move(st));
        continue;
      }
      // Not finished (scheduled ahead, running, waiting for a retry): kept, and the
      // ranges on either side of it are archived and deleted without it.
      if (!first_live.valid()) first_live = id;
      if (Status st = run.StepOver(id); !st.ok()) return Error(std::move(st));
    }
    if (page->size() < o.page_records) break;
    cursor = After(page->back().record.command.id);
  }
  if (Status st = run.Seal(bound); !st.ok()) return Error(std::move(st));
  report.covered_to = first_live.valid() ? first_live : bound;
  report.archive_seconds = Since(start) - report.delete_seconds;
  return report;
}

RetentionJob::RetentionJob(Store& store, RetentionOptions options, const Clock& clock)
    : store_(store), options_(std::move(options)), clock_(clock) {}

RetentionJob::~RetentionJob() { Stop(); }

Status RetentionJob::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return Status::FailedPrecondition("retention job already started");
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void RetentionJob::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionJob::Loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, options_.interval, [this] { return stopping_; })) {
    lock.unlock();
    (void)RunOnce();  // its outcome is in Totals() and LastError()
    lock.lock();
  }
}

Result<ArchiveReport> RetentionJob::RunOnce() {
  std::lock_guard run_lock(run_mu_);
  auto report = RunRetentionOnce(store_, options_, clock_, low_);
  std::lock_guard lock(mu_);
  if (!report) {
    last_error_ = report.error();
    return report;
  }
  last_error_ = Status::Ok();
  if (report->covered_to.valid()) low_ = report->covered_to;
  totals_.archived += report->archived;
  totals_.archive_bytes += report->archive_bytes;
  totals_.archive_seconds += report->archive_seconds;
  totals_.delete_seconds += report->delete_seconds;
  if (report->deleted_to.valid()) {
    if (!totals_.deleted_from.valid()) totals_.deleted_from = report->deleted_from;
    totals_.deleted_to = report->deleted_to;
  }
  totals_.covered_to = low_;
  return report;
}

ArchiveReport RetentionJob::Totals() const {
  std::lock_guard lock(mu_);
  return totals_;
}

Status RetentionJob::LastError() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace cmdq
