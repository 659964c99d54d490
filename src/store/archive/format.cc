#include "store/archive/format.h"

// The XXH3 streaming state is a complete type only with static linking on.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <cstring>

namespace cmdq::archive {
namespace {

uint32_t Low32(uint64_t v) { return static_cast<uint32_t>(v & 0xFFFFFFFFu); }

uint32_t Checksum32(std::string_view bytes) {
  return Low32(XXH3_64bits(bytes.data(), bytes.size()));
}

}  // namespace

void PutFixed32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void PutFixed64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint32_t GetFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint64_t GetFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string EncodeHeader(const Header& h) {
  std::string out(kFileMagic);
  PutFixed32(out, h.version);
  PutFixed32(out, kHeaderBytes);
  PutFixed64(out, static_cast<uint64_t>(h.created_at_us));
  PutFixed64(out, h.first_id.value());
  PutFixed64(out, h.last_id.value());
  PutFixed64(out, h.records);
  PutFixed64(out, h.frames);
  PutFixed32(out, 0);  // reserved
  PutFixed32(out, Checksum32(out));
  return out;
}

Result<Header> DecodeHeader(std::string_view b) {
  if (b.size() < kHeaderBytes) {
    return Error(Status::Corruption("file is shorter than the " + std::to_string(kHeaderBytes) +
                                    "-byte header: not an archive, or truncated"));
  }
  if (b.substr(0, kFileMagic.size()) != kFileMagic) {
    return Error(Status::Corruption("bad magic: not a cmdq archive"));
  }
  Header h;
  h.version = GetFixed32(b.data() + 8);
  // The version is checked before anything else that a newer version might lay out
  // differently, so that a newer file gets the message that helps.
  if (h.version == 0) return Error(Status::Corruption("archive format version 0 is invalid"));
  if (h.version > kFormatVersion) {
    return Error(Status::Corruption("archive format version " + std::to_string(h.version) +
                                    " is newer than this build understands (" +
                                    std::to_string(kFormatVersion) +
                                    "); read it with a newer cmdq"));
  }
  if (GetFixed32(b.data() + 60) != Checksum32(b.substr(0, 60))) {
    return Error(Status::Corruption("header checksum mismatch"));
  }
  if (GetFixed32(b.data() + 12) != kHeaderBytes) {
    return Error(Status::Corruption("header size field is not " + std::to_string(kHeaderBytes)));
  }
  h.created_at_us = static_cast<int64_t>(GetFixed64(b.data() + 16));
  h.first_id = CommandId(GetFixed64(b.data() + 24));
  h.last_id = CommandId(GetFixed64(b.data() + 32));
  h.records = GetFixed64(b.data() + 40);
  h.frames = GetFixed64(b.data() + 48);
  if (h.records > 0 && h.first_id > h.last_id) {
    return Error(Status::Corruption("header: first id is above last id"));
  }
  return h;
}

std::string EncodeFrameHeader(const FrameHeader& f) {
  std::string out(kFrameMagic);
  PutFixed32(out, f.compressed_bytes);
  PutFixed32(out, f.uncompressed_bytes);
  PutFixed32(out, f.records);
  PutFixed64(out, f.checksum);
  return out;
}

Result<FrameHeader> DecodeFrameHeader(std::string_view b) {
  if (b.size() < kFrameHeaderBytes) return Error(Status::Corruption("truncated frame header"));
  if (b.substr(0, kFrameMagic.size()) != kFrameMagic) {
    return Error(Status::Corruption("bad frame magic"));
  }
  FrameHeader f{.compressed_bytes = GetFixed32(b.data() + 4),
                .uncompressed_bytes = GetFixed32(b.data() + 8),
                .records = GetFixed32(b.data() + 12),
                .checksum = GetFixed64(b.data() + 16)};
  if (f.compressed_bytes > kMaxFrameBytes || f.uncompressed_bytes > kMaxFrameBytes) {
    return Error(Status::Corruption("frame size over the 64 MiB limit"));
  }
  return f;
}

uint64_t FrameChecksum(std::string_view header16, std::string_view data) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, header16.data(), header16.size());
  XXH3_64bits_update(&state, data.data(), data.size());
  return XXH3_64bits_digest(&state);
}

std::string EncodeTrailer(const Trailer& t) {
  std::string out(kTrailerMagic);
  PutFixed64(out, t.records);
  PutFixed64(out, t.frames_checksum);
  PutFixed32(out, 0);  // reserved
  PutFixed32(out, Checksum32(out));
  return out;
}

Result<Trailer> DecodeTrailer(std::string_view b) {
  if (b.size() != kTrailerBytes || b.substr(0, kTrailerMagic.size()) != kTrailerMagic) {
    return Error(Status::Corruption("no trailer: the file is truncated or was not finished"));
  }
  if (GetFixed32(b.data() + 28) != Checksum32(b.substr(0, 28))) {
    return Error(Status::Corruption("trailer checksum mismatch"));
  }
  return Trailer{.records = GetFixed64(b.data() + 8), .frames_checksum = GetFixed64(b.data() + 16)};
}

std::string FileName(CommandId first, CommandId last) {
  return "cmdq-archive-" + first.ToString() + "-" + last.ToString() + ".cqa";
}

bool IsArchiveName(std::string_view name) {
  // "cmdq-archive-" 16 hex "-" 16 hex ".cqa"
  constexpr std::string_view kPrefix = "cmdq-archive-";
  if (name.size() != kPrefix.size() + 16 + 1 + 16 + 4) return false;
  if (!name.starts_with(kPrefix) || !name.ends_with(".cqa")) return false;
  if (name[kPrefix.size() + 16] != '-') return false;
  return CommandId::Parse(name.substr(kPrefix.size(), 16)).has_value() &&
         CommandId::Parse(name.substr(kPrefix.size() + 17, 16)).has_value();
}

}  // namespace cmdq::archive
