// ArchiveWriter: writes one archive file (docs/archive.md). Records are added in
// increasing id order and buffered into frames of about `frame_bytes`; each full frame is
// compressed with zstd and appended with its checksum. Finish() writes the trailer and the
// final header, syncs the file, renames it from its temporary name to
// "cmdq-archive-<first>-<last>.cqa" and syncs the directory: once Finish() returns OK the
// file is complete on disk, and before that no file with a final name exists.
// Not thread-safe: one writer per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cmdq/archive.h"
#include "cmdq/status.h"
#include "cmdq/store.h"
#include "store/archive/file_io.h"

struct ZSTD_CCtx_s;

namespace cmdq::archive {

struct WriterOptions {
  int zstd_level = 3;
  size_t frame_bytes = size_t{1} << 20;
};

class ArchiveWriter {
 public:
  // Starts a file in `dir` (which must exist). kIoError if it cannot be created.
  static Result<std::unique_ptr<ArchiveWriter>> Create(const std::string& dir,
                                                       int64_t created_at_us,
                                                       WriterOptions options = {});
  ~ArchiveWriter();  // an unfinished file is removed
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  // kInvalidArgument if the id is not above the previous one; kIoError from the disk.
  Status Add(const StoredCommand& record);
  uint64_t records() const { return records_; }

  // Completes the file (see above) and returns what it holds. A writer with no records
  // writes no file: the result has an empty path. The writer is done afterwards.
  Result<ArchiveInfo> Finish();

 private:
  ArchiveWriter(std::string dir, OutFile file, int64_t created_at_us, WriterOptions options);
  Status FlushFrame();

  const std::string dir_;
  OutFile file_;
  const int64_t created_at_us_;
  const WriterOptions options_;
  ZSTD_CCtx_s* cctx_ = nullptr;
  std::string frame_;  // uncompressed records of the frame being filled
  uint32_t frame_records_ = 0;
  std::string compressed_;  // reused buffer
  struct HashState;
  std::unique_ptr<HashState> hash_;  // XXH3 state over everything after the header
  CommandId first_;
  CommandId last_;
  uint64_t records_ = 0;
  uint64_t frames_ = 0;
  bool finished_ = false;
};

}  // namespace cmdq::archive
