// Archive files: round trip of every field, and damage (every truncation, every flipped
// byte, a newer version) reported as kCorruption naming the file and offset.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cmdq/archive.h"
#include "store/archive/archive_writer.h"
#include "store/archive/format.h"
#include "store/archive/record_codec.h"
#include "store/rocksdb/test_dir.h"

namespace cmdq::archive {
namespace {

using rocksdb_store::testing::TempDir;

StoredCommand Make(uint64_t id, size_t payload_bytes = 100) {
  StoredCommand s;
  Command& c = s.record.command;
  c.id = CommandId(id);
  c.type = "email.send";
  c.key = "user-" + std::to_string(id % 17);
  c.payload.resize(payload_bytes);
  for (size_t i = 0; i < payload_bytes; ++i) c.payload[i] = static_cast<char>((id * 31 + i) & 0xFF);
  c.payload_is_json = id % 2 == 0;
  c.idempotency_key = id % 3 ? "idem-" + std::to_string(id) : "";
  c.headers = {{"trace", std::to_string(id)}, {std::string("a\0b", 3), "v"}};
  c.not_before_us = static_cast<int64_t>(id) * 10;
  c.max_attempts = 5;
  c.timeout_ms = 2500;
  c.created_at_us = static_cast<int64_t>(id) * 1000;
  s.record.state = id % 4 ? State::kSucceeded : State::kDead;
  s.record.attempt = 2;
  s.record.result = "result of " + std::to_string(id);
  s.record.error = "the first attempt timed out";
  s.record.updated_at_us = c.created_at_us + 77;
  for (uint32_t seq = 0; seq < 4; ++seq) {
    s.audit.push_back(AuditEvent{.id = c.id,
                                 .sequence = seq,
                                 .time_us = c.created_at_us + seq,
                                 .from = seq == 0 ? State::kNone : State::kPending,
                                 .to = seq == 0 ? State::kPending : State::kRunning,
                                 .attempt = seq,
                                 .worker = "worker-" + std::to_string(seq),
                                 .message = seq == 3 ? "done" : ""});
  }
  return s;
}

std::string Bytes(const StoredCommand& s) {
  std::string out;
  AppendStored(s, out);
  return out;
}

std::string Write(const std::string& dir, uint64_t first, uint64_t count,
                  WriterOptions options = {}) {
  auto w = ArchiveWriter::Create(dir, 1'767'225'600'000'000, options);
  EXPECT_TRUE(w.has_value()) << w.error().ToString();
  for (uint64_t id = first; id < first + count; ++id) EXPECT_TRUE((*w)->Add(Make(id)).ok());
  auto info = (*w)->Finish();
  EXPECT_TRUE(info.has_value()) << info.error().ToString();
  return info->path;
}

std::string ReadFile(const std::string& path) {
  std::string bytes(std::filesystem::file_size(path), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Result<ArchiveInfo> ReadAll(const std::string& path, std::vector<StoredCommand>* out = nullptr) {
  return ReadArchive(path, [out](const StoredCommand& s) {
    if (out != nullptr) out->push_back(s);
    return Status::Ok();
  });
}

TEST(ArchiveFile, RoundTripsEveryFieldAcrossManyFrames) {
  TempDir dir;
  const uint64_t first = 1'000'000;
  const uint64_t n = 3000;
  std::string path = Write(dir.path(), first, n, {.zstd_level = 1, .frame_bytes = 16 << 10});
  EXPECT_EQ(std::filesystem::path(path).filename(),
            FileName(CommandId(first), CommandId(first + n - 1)));
  std::vector<StoredCommand> back;
  auto info = ReadAll(path, &back);
  ASSERT_TRUE(info.has_value()) << info.error().ToString();
  EXPECT_EQ(info->records, n);
  EXPECT_EQ(info->first_id, CommandId(first));
  EXPECT_EQ(info->last_id, CommandId(first + n - 1));
  EXPECT_EQ(info->created_at_us, 1'767'225'600'000'000);
  EXPECT_EQ(info->version, kFormatVersion);
  ASSERT_EQ(back.size(), n);
  for (uint64_t i = 0; i < n; ++i) {
    ASSERT_EQ(Bytes(back[i]), Bytes(Make(first + i))) << i;
    ASSERT_EQ(back[i].audit.size(), 4u);
    EXPECT_EQ(back[i].audit[3].id, CommandId(first + i));
    EXPECT_EQ(back[i].audit[3].sequence, 3u);
  }
  auto list = ListArchives(dir.path());
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].check.ok()) << (*list)[0].check.ToString();
  EXPECT_EQ((*list)[0].records, n);
  EXPECT_EQ((*list)[0].file_bytes, std::filesystem::file_size(path));
}

TEST(ArchiveFile, CallbackErrorStopsTheRead) {
  TempDir dir;
  std::string path = Write(dir.path(), 1, 10);
  int seen = 0;
  auto r = ReadArchive(path, [&](const StoredCommand&) {
    return ++seen == 3 ? Status::Internal("enough") : Status::Ok();
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "enough");
  EXPECT_EQ(seen, 3);
}

TEST(ArchiveFile, EveryTruncationIsReportedNotACrash) {
  TempDir dir;
  std::string path = Write(dir.path(), 1, 6, {.frame_bytes = 300});
  const std::string bytes = ReadFile(path);
  const std::string cut = dir.Sub("cut.cqa");
  for (size_t len = 0; len < bytes.size(); ++len) {
    WriteFile(cut, std::string_view(bytes).substr(0, len));
    auto r = ReadAll(cut);
    ASSERT_FALSE(r.has_value()) << "length " << len;
    EXPECT_EQ(r.error().code(), StatusCode::kCorruption) << len << ": " << r.error().ToString();
    EXPECT_NE(r.error().message().find(cut + ": offset "), std::string::npos)
        << r.error().message();
  }
}

TEST(ArchiveFile, EveryFlippedByteIsReported) {
  TempDir dir;
  std::string path = Write(dir.path(), 1, 6, {.frame_bytes = 300});
  const std::string bytes = ReadFile(path);
  const std::string bad = dir.Sub("bad.cqa");
  for (size_t at = 0; at < bytes.size(); ++at) {
    std::string copy = bytes;
    copy[at] = static_cast<char>(copy[at] ^ (1 << (at % 8)));
    WriteFile(bad, copy);
    auto r = ReadAll(bad);
    ASSERT_FALSE(r.has_value()) << "byte " << at;
    EXPECT_EQ(r.error().code(), StatusCode::kCorruption) << at;
  }
  // Appended garbage breaks the trailer's place.
  WriteFile(bad, bytes + "x");
  EXPECT_FALSE(ReadAll(bad).has_value());
}

TEST(ArchiveFile, ListMarksDamagedFilesAndKeepsTheirRange) {
  TempDir dir;
  std::string good = Write(dir.path(), 1, 5);
  std::string damaged = Write(dir.path(), 100, 5);
  std::string bytes = ReadFile(damaged);
  WriteFile(damaged, std::string_view(bytes).substr(0, bytes.size() / 2));
  WriteFile(dir.Sub("notes.txt"), "not an archive");
  auto list = ListArchives(dir.path());
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_TRUE((*list)[0].check.ok());
  EXPECT_EQ((*list)[1].check.code(), StatusCode::kCorruption);
  EXPECT_EQ((*list)[1].first_id, CommandId(100));
  EXPECT_EQ((*list)[1].last_id, CommandId(104));
  EXPECT_EQ(ListArchives(dir.Sub("missing")).error().code(), StatusCode::kNotFound);
}

TEST(ArchiveFile, RefusesANewerVersion) {
  TempDir dir;
  std::string path = Write(dir.path(), 1, 3);
  std::string bytes = ReadFile(path);
  auto header = DecodeHeader(bytes);
  ASSERT_TRUE(header.has_value());
  header->version = kFormatVersion + 1;
  // A consistent header of a newer version: its checksum is right.
  std::string newer = EncodeHeader(*header);
  WriteFile(path, newer + bytes.substr(kHeaderBytes));
  auto r = ReadAll(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kCorruption);
  EXPECT_NE(r.error().message().find("version 2 is newer than this build understands (1)"),
            std::string::npos)
      << r.error().message();
}

TEST(ArchiveFile, WriterRefusesIdsOutOfOrderAndLeavesNoFileUnfinished) {
  TempDir dir;
  {
    auto w = ArchiveWriter::Create(dir.path(), 0);
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE((*w)->Add(Make(5)).ok());
    EXPECT_EQ((*w)->Add(Make(5)).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ((*w)->Add(Make(4)).code(), StatusCode::kInvalidArgument);
  }  // dropped unfinished
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  auto w = ArchiveWriter::Create(dir.path(), 0);
  ASSERT_TRUE(w.has_value());
  auto info = (*w)->Finish();
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->path.empty());  // no records, no file
  w->reset();
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace cmdq::archive
