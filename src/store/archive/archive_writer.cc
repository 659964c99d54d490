#include "store/archive/archive_writer.h"

#include <unistd.h>
// The XXH3 streaming state is a complete type only with static linking on.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#include <zstd.h>

#include <atomic>
#include <filesystem>

#include "store/archive/format.h"
#include "store/archive/record_codec.h"

namespace cmdq::archive {

struct ArchiveWriter::HashState {
  XXH3_state_t state;
};

namespace {

std::string PartialName(const std::string& dir, int64_t created_at_us) {
  static std::atomic<uint64_t> counter{0};
  return dir + "/" + std::string(kPartialPrefix) + std::to_string(created_at_us) + "-" +
         std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) +
         std::string(kPartialSuffix);
}

}  // namespace

Result<std::unique_ptr<ArchiveWriter>> ArchiveWriter::Create(const std::string& dir,
                                                             int64_t created_at_us,
                                                             WriterOptions options) {
  auto file = OutFile::Create(PartialName(dir, created_at_us));
  if (!file) return Error(std::move(file.error()));
  // The header is written last, when counts and ids are known; zeros hold its place, so
  // a file cut short before then has no valid header.
  if (Status s = file->Append(std::string(kHeaderBytes, '\0')); !s.ok()) return Error(s);
  return std::unique_ptr<ArchiveWriter>(
      new ArchiveWriter(dir, std::move(*file), created_at_us, options));
}

ArchiveWriter::ArchiveWriter(std::string dir, OutFile file, int64_t created_at_us,
                             WriterOptions options)
    : dir_(std::move(dir)),
      file_(std::move(file)),
      created_at_us_(created_at_us),
      options_(options),
      cctx_(ZSTD_createCCtx()),
      hash_(std::make_unique<HashState>()) {
  XXH3_64bits_reset(&hash_->state);
}

ArchiveWriter::~ArchiveWriter() {
  ZSTD_freeCCtx(cctx_);
  if (!finished_) {
    std::error_code ec;
    std::filesystem::remove(file_.path(), ec);
  }
}

Status ArchiveWriter::Add(const StoredCommand& record) {
  const CommandId id = record.record.command.id;
  if (!id.valid() || (records_ > 0 && id <= last_)) {
    return Status::InvalidArgument("id", "archive records must come in increasing id order; " +
                                             id.ToString() + " follows " + last_.ToString());
  }
  if (records_ == 0) first_ = id;
  last_ = id;
  ++records_;
  AppendStored(record, frame_);
  ++frame_records_;
  if (frame_.size() >= options_.frame_bytes) return FlushFrame();
  return Status::Ok();
}

Status ArchiveWriter::FlushFrame() {
  if (frame_records_ == 0) return Status::Ok();
  if (frame_.size() > kMaxFrameBytes) {
    return Status::InvalidArgument("record", "a record is larger than an archive frame allows");
  }
  compressed_.resize(ZSTD_compressBound(frame_.size()));
  size_t n = ZSTD_compressCCtx(cctx_, compressed_.data(), compressed_.size(), frame_.data(),
                               frame_.size(), options_.zstd_level);
  if (ZSTD_isError(n)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  compressed_.resize(n);
  FrameHeader fh{.compressed_bytes = static_cast<uint32_t>(n),
                 .uncompressed_bytes = static_cast<uint32_t>(frame_.size()),
                 .records = frame_records_};
  std::string header = EncodeFrameHeader(fh);
  fh.checksum = FrameChecksum(std::string_view(header).substr(0, 16), compressed_);
  header = EncodeFrameHeader(fh);
  XXH3_64bits_update(&hash_->state, header.data(), header.size());
  XXH3_64bits_update(&hash_->state, compressed_.data(), compressed_.size());
  if (Status s = file_.Append(header); !s.ok()) return s;
  if (Status s = file_.Append(compressed_); !s.ok()) return s;
  ++frames_;
  frame_.clear();
  frame_records_ = 0;
  return Status::Ok();
}

Result<ArchiveInfo> ArchiveWriter::Finish() {
  if (finished_) return Error(Status::FailedPrecondition("archive already finished"));
  if (records_ == 0) return ArchiveInfo{};  // the destructor removes the empty file
  if (Status s = FlushFrame(); !s.ok()) return Error(s);
  Trailer trailer{.records = records_, .frames_checksum = XXH3_64bits_digest(&hash_->state)};
  if (Status s = file_.Append(EncodeTrailer(trailer)); !s.ok()) return Error(s);
  Header header{.created_at_us = created_at_us_,
                .first_id = first_,
                .last_id = last_,
                .records = records_,
                .frames = frames_};
  if (Status s = file_.WriteAt(0, EncodeHeader(header)); !s.ok()) return Error(s);
  const uint64_t bytes = file_.size();
  const std::string partial = file_.path();
  if (Status s = file_.SyncAndClose(); !s.ok()) return Error(s);
  const std::string path = dir_ + "/" + FileName(first_, last_);
  if (Status s = RenameDurably(partial, path); !s.ok()) return Error(s);
  finished_ = true;
  return ArchiveInfo{.path = path,
                     .version = kFormatVersion,
                     .created_at_us = created_at_us_,
                     .first_id = first_,
                     .last_id = last_,
                     .records = records_,
                     .file_bytes = bytes};
}

}  // namespace cmdq::archive
