// ReadArchive and ListArchives (include/cmdq/archive.h): every byte of an archive is
// checked before it is trusted (docs/archive.md, "Reading"), and every failure names the
// file, the byte offset and what is wrong.
// The XXH3 streaming state is a complete type only with static linking on.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "cmdq/archive.h"
#include "store/archive/file_io.h"
#include "store/archive/format.h"
#include "store/archive/record_codec.h"

namespace cmdq {
namespace {

using archive::FrameHeader;
using archive::Header;
using archive::InFile;
using archive::kFrameHeaderBytes;
using archive::kHeaderBytes;
using archive::kTrailerBytes;

Status At(const std::string& path, uint64_t offset, const Status& what) {
  if (what.code() != StatusCode::kCorruption) return what;
  return Status::Corruption(path + ": offset " + std::to_string(offset) + ": " + what.message());
}

struct DctxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Reads one archive; fills `info` as far as it gets. Returns the first failure: a
// corruption (with file and offset), an I/O error, or the callback's own error.
class Reader {
 public:
  Reader(std::string path, ArchiveInfo& info) : path_(std::move(path)), info_(info) {
    info_.path = path_;
  }

  Status Open() {
    auto file = InFile::Open(path_);
    if (!file) return file.error();
    file_ = std::make_unique<InFile>(std::move(*file));
    info_.file_bytes = file_->size();
    std::string buf;
    if (file_->size() < kHeaderBytes + kTrailerBytes) {
      return At(path_, file_->size(),
                Status::Corruption("the file is " + std::to_string(file_->size()) +
                                   " bytes, shorter than a header and a trailer (truncated?)"));
    }
    if (Status s = file_->ReadAt(0, kHeaderBytes, buf); !s.ok()) return At(path_, 0, s);
    auto header = archive::DecodeHeader(buf);
    if (!header) return At(path_, 0, header.error());
    header_ = *header;
    info_.version = header_.version;
    info_.created_at_us = header_.created_at_us;
    info_.first_id = header_.first_id;
    info_.last_id = header_.last_id;
    info_.records = header_.records;
    const uint64_t trailer_at = file_->size() - kTrailerBytes;
    if (Status s = file_->ReadAt(trailer_at, kTrailerBytes, buf); !s.ok()) {
      return At(path_, trailer_at, s);
    }
    auto trailer = archive::DecodeTrailer(buf);
    if (!trailer) return At(path_, trailer_at, trailer.error());
    trailer_ = *trailer;
    if (trailer_.records != header_.records) {
      return At(path_, trailer_at,
                Status::Corruption("trailer counts " + std::to_string(trailer_.records) +
                                   " records, header " + std::to_string(header_.records)));
    }
    return Status::Ok();
  }

  Status ReadFrames(const std::function<Status(const StoredCommand&)>& on_record) {
    const uint64_t end = file_->size() - kTrailerBytes;
    XXH3_state_t hash;
    XXH3_64bits_reset(&hash);
    std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx(ZSTD_createDCtx());
    std::string head, data, plain;
    uint64_t offset = kHeaderBytes, frames = 0, records = 0;
    CommandId previous;
    while (offset < end) {
      if (end - offset < kFrameHeaderBytes) {
        return At(path_, offset, Status::Corruption("a frame header runs into the trailer"));
      }
      if (Status s = file_->ReadAt(offset, kFrameHeaderBytes, head); !s.ok()) {
        return At(path_, offset, s);
      }
      auto fh = archive::DecodeFrameHeader(head);
      if (!fh) return At(path_, offset, fh.error());
      const uint64_t data_at = offset + kFrameHeaderBytes;
      if (fh->compressed_bytes > end - data_at) {
        return At(path_, offset,
                  Status::Corruption("frame of " + std::to_string(fh->compressed_bytes) +
                                     " bytes runs past the trailer"));
      }
      if (Status s = file_->ReadAt(data_at, fh->compressed_bytes, data); !s.ok()) {
        return At(path_, data_at, s);
      }
      if (archive::FrameChecksum(std::string_view(head).substr(0, 16), data) != fh->checksum) {
        return At(path_, offset, Status::Corruption("frame checksum mismatch"));
      }
      XXH3_64bits_update(&hash, head.data(), head.size());
      XXH3_64bits_update(&hash, data.data(), data.size());
      plain.resize(fh->uncompressed_bytes);
      size_t n =
          ZSTD_decompressDCtx(dctx.get(), plain.data(), plain.size(), data.data(), data.size());
      if (ZSTD_isError(n) || n != plain.size()) {
        return At(path_, data_at,
                  Status::Corruption(std::string("frame does not decompress: ") +
                                     (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size differs")));
      }
      std::string_view in = plain;
      for (uint32_t i = 0; i < fh->records; ++i) {
        auto rec = archive::TakeStored(in);
        if (!rec)
          return At(path_, data_at,
                    Status::Corruption("record " + std::to_string(i) +
                                       " of the frame: " + rec.error().message()));
        const CommandId id = rec->record.command.id;
        if (id <= previous || id < header_.first_id || id > header_.last_id) {
          return At(path_, data_at,
                    Status::Corruption("record " + id.ToString() +
                                       " is out of order or outside the header's range"));
        }
        previous = id;
        if (Status s = on_record(*rec); !s.ok()) return s;
      }
      if (!in.empty()) {
        return At(path_, data_at, Status::Corruption("bytes follow the frame's last record"));
      }
      records += fh->records;
      ++frames;
      offset = data_at + fh->compressed_bytes;
    }
    if (frames != header_.frames || records != header_.records) {
      return At(path_, end,
                Status::Corruption("found " + std::to_string(records) + " records in " +
                                   std::to_string(frames) + " frames; the header says " +
                                   std::to_string(header_.records) + " in " +
                                   std::to_string(header_.frames)));
    }
    if (XXH3_64bits_digest(&hash) != trailer_.frames_checksum) {
      return At(path_, end, Status::Corruption("checksum of the frames does not match"));
    }
    return Status::Ok();
  }

 private:
  std::string path_;
  ArchiveInfo& info_;
  std::unique_ptr<InFile> file_;
  Header header_;
  archive::Trailer trailer_;
};

// The range named by a file name, for files whose header cannot be read.
void RangeFromName(const std::string& name, ArchiveInfo& info) {
  constexpr size_t kAt = std::string_view("cmdq-archive-").size();
  if (auto first = CommandId::Parse(name.substr(kAt, 16))) info.first_id = *first;
  if (auto last = CommandId::Parse(name.substr(kAt + 17, 16))) info.last_id = *last;
}

}  // namespace

Result<ArchiveInfo> ReadArchive(const std::string& path,
                                const std::function<Status(const StoredCommand&)>& on_record) {
  ArchiveInfo info;
  Reader reader(path, info);
  if (Status s = reader.Open(); !s.ok()) return Error(std::move(s));
  if (Status s = reader.ReadFrames(on_record); !s.ok()) return Error(std::move(s));
  return info;
}

Result<std::vector<ArchiveInfo>> ListArchives(const std::string& dir, bool verify) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return Error(Status::NotFound("no archive directory " + dir));
    }
    return Error({StatusCode::kIoError, "cannot list " + dir + ": " + ec.message()});
  }
  std::vector<std::string> names;
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    if (archive::IsArchiveName(name)) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  std::vector<ArchiveInfo> out;
  for (const std::string& name : names) {
    ArchiveInfo info;
    Reader reader(dir + "/" + name, info);
    Status s = reader.Open();
    if (s.ok() && verify) s = reader.ReadFrames([](const StoredCommand&) { return Status::Ok(); });
    if (!s.ok() && !info.first_id.valid()) RangeFromName(name, info);
    info.check = std::move(s);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace cmdq
