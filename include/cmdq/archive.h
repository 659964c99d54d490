// Retention and archival: terminal commands older than a retention period are written to
// archive files and then removed from the store with one range delete over their
// time-ordered ids (DESIGN.md §2 "Retention"). The file format is docs/archive.md.
//
// An archive file holds the records of one id range: a header, zstd-compressed frames of
// records (command, state, result, audit trail), each with its own checksum, and a
// trailer with a checksum over all frames. It is written under a temporary name, synced,
// renamed and its directory synced, so a file with a final name is always complete.
// A truncated or damaged file is reported (kCorruption naming the file, the byte offset
// and what is wrong), never a crash or a read past its end.
//
// Order of work: a range is deleted from the store only after its archive file is on
// disk. A crash between the two leaves the records in the store, and the next run
// archives them again (a second file with the same records; restore reports duplicates).
//
// Thread-safety: the free functions are thread-safe. RetentionJob's methods are called
// from one thread; its periodic runs happen on its own thread. One job per archive
// directory.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cmdq/clock.h"
#include "cmdq/command_id.h"
#include "cmdq/status.h"
#include "cmdq/store.h"

namespace cmdq {

struct RetentionOptions {
  // Where archive files go. Required; created when missing. Holds nothing else of value:
  // leftover temporary files (".cmdq-archive-*.partial") are removed by the job.
  std::string archive_dir;
  // Terminal commands whose ids are older than this are archived and deleted. Longer
  // keeps more history in the store (Get/List/Audit) at the cost of disk.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  // How often RetentionJob runs. Shorter keeps the store closer to its retention at the
  // cost of more, smaller archive files.
  std::chrono::milliseconds interval{std::chrono::minutes(1)};
  // Records read from the store per Scan. Bounds the memory of one step (~1.5 KB per
  // 1 KB-payload record).
  size_t page_records = 1'000;
  // A file is closed (and its range deleted) after this many records; the run goes on
  // with a new file. Bounds file size and the records kept in the store by a crash.
  size_t max_records_per_file = 500'000;
  // Uncompressed bytes per compressed frame. Larger compresses a little better; each
  // frame is read whole, so a reader needs this much memory (at most 64 MiB).
  size_t frame_bytes = size_t{1} << 20;
  // zstd level, 1..19. 3 is zstd's default: fast, and random payloads gain nothing from
  // more.
  int zstd_level = 3;
};

// What one retention run did.
struct ArchiveReport {
  uint64_t archived = 0;           // records written to archive files (and deleted)
  uint64_t archive_bytes = 0;      // size of the files written
  std::vector<std::string> files;  // paths of the files written, in id order
  CommandId deleted_from;          // the range removed from the store: [from, to)
  CommandId deleted_to;            //   (both empty when nothing was removed)
  CommandId covered_to;            // where the next run starts: the oldest record left in
                                   // place, else the cutoff (empty: nothing was old enough)
  double archive_seconds = 0;      // scanning the store and writing files
  double delete_seconds = 0;       // the store's DeleteRange calls
};

// One archive file as ListArchives or ReadArchive found it.
struct ArchiveInfo {
  std::string path;
  uint32_t version = 0;
  int64_t created_at_us = 0;
  CommandId first_id;  // of the records in the file
  CommandId last_id;
  uint64_t records = 0;
  uint64_t file_bytes = 0;
  Status check;  // OK, or what is wrong with the file (kCorruption, kIoError)
};

// One run: cutoff = the first id of (clock.now - retention); archives the terminal
// records of [`low`, cutoff) and deletes them, range by range around the records that are
// not terminal, which are never archived nor deleted. Returns what it did;
// errors: the store's, or kIoError writing a file (the range is then not deleted).
Result<ArchiveReport> RunRetentionOnce(Store& store, const RetentionOptions& options,
                                       const Clock& clock, CommandId low = CommandId(1));

// Runs RunRetentionOnce every options.interval on its own thread, each run starting where
// the previous one ended (the low-water id, kept in memory: a restarted job starts from
// the store's oldest record, which costs one Seek).
class RetentionJob {
 public:
  // `store` and `clock` are not owned and must outlive the job.
  RetentionJob(Store& store, RetentionOptions options, const Clock& clock);
  ~RetentionJob();  // stops if running
  RetentionJob(const RetentionJob&) = delete;
  RetentionJob& operator=(const RetentionJob&) = delete;

  Status Start();
  // Waits for a run in progress to end.
  void Stop();
  // One run now, on the caller's thread (tests; `cmdq` tools).
  Result<ArchiveReport> RunOnce();

  // Sums over every run so far (`files` left empty: ListArchives has them), and the last
  // run's error (OK if it succeeded).
  ArchiveReport Totals() const;
  Status LastError() const;

 private:
  void Loop();

  Store& store_;
  const RetentionOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  CommandId low_{1};       // guarded by run_mu_
  std::mutex run_mu_;      // one run at a time
  ArchiveReport totals_;   // guarded by mu_
  Status last_error_;      // guarded by mu_
  std::thread thread_;
};

// The archive files of `dir` (names "cmdq-archive-<first>-<last>.cqa"), in id order.
// With `verify`, every file is read in full and its `check` says whether it is intact;
// without, only the header and trailer are checked. kNotFound if dir is missing.
Result<std::vector<ArchiveInfo>> ListArchives(const std::string& dir, bool verify = true);

// Reads every record of the file at `path` in id order and passes it to `on_record`, which
// may stop the read by returning an error (returned as is). Records are passed as their
// frame checks out; the whole-file checks come after the last. So a caller that must not
// act on a damaged file reads it twice: once with a no-op callback, then for real.
Result<ArchiveInfo> ReadArchive(const std::string& path,
                                const std::function<Status(const StoredCommand&)>& on_record);

}  // namespace cmdq
