// The archive file format, version 1 (docs/archive.md is the specification): the fixed
// header at the start, the frame header before each compressed frame, the trailer at the
// end, and the file names. Little-endian fixed-width integers throughout.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cmdq/command_id.h"
#include "cmdq/status.h"

namespace cmdq::archive {

inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kHeaderBytes = 64;
inline constexpr size_t kFrameHeaderBytes = 24;
inline constexpr size_t kTrailerBytes = 32;
inline constexpr std::string_view kFileMagic = "CMDQARCH";       // 8 bytes
inline constexpr std::string_view kFrameMagic = "CQFR";          // 4 bytes
inline constexpr std::string_view kTrailerMagic = "CQAEND\r\n";  // 8 bytes
// A frame is read whole into memory: its sizes are bounded so that a damaged size field
// cannot make a reader allocate gigabytes.
inline constexpr uint32_t kMaxFrameBytes = uint32_t{64} << 20;

struct Header {
  uint32_t version = kFormatVersion;
  int64_t created_at_us = 0;
  CommandId first_id;
  CommandId last_id;
  uint64_t records = 0;
  uint64_t frames = 0;
};

struct FrameHeader {
  uint32_t compressed_bytes = 0;
  uint32_t uncompressed_bytes = 0;
  uint32_t records = 0;
  uint64_t checksum = 0;  // XXH3_64 of the frame header's first 16 bytes and the data
};

struct Trailer {
  uint64_t records = 0;
  uint64_t frames_checksum = 0;  // XXH3_64 of every byte between header and trailer
};

std::string EncodeHeader(const Header& h);
// Checks size, magic, version (a newer one is refused), checksum. Errors are kCorruption
// with a message saying what failed (the caller adds the file and offset).
Result<Header> DecodeHeader(std::string_view bytes);

std::string EncodeFrameHeader(const FrameHeader& f);
Result<FrameHeader> DecodeFrameHeader(std::string_view bytes);
// The checksum of a frame: XXH3_64 over the frame header's first 16 bytes, then the data.
uint64_t FrameChecksum(std::string_view header16, std::string_view data);

std::string EncodeTrailer(const Trailer& t);
Result<Trailer> DecodeTrailer(std::string_view bytes);

// "cmdq-archive-<first>-<last>.cqa", ids as 16 hex digits: names sort in id order.
std::string FileName(CommandId first, CommandId last);
// Whether `name` is an archive's file name (not a temporary one).
bool IsArchiveName(std::string_view name);
inline constexpr std::string_view kPartialPrefix = ".cmdq-archive-";
inline constexpr std::string_view kPartialSuffix = ".partial";

// Little-endian helpers, shared by the writer and the reader.
void PutFixed32(std::string& out, uint32_t v);
void PutFixed64(std::string& out, uint64_t v);
uint32_t GetFixed32(const char* p);
uint64_t GetFixed64(const char* p);

}  // namespace cmdq::archive
