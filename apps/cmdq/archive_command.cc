#include "archive_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <vector>

#include "cmdq/archive.h"
#include "cmdq/rocksdb_store.h"
#include "protocol/json_writer.h"
#include "protocol/record_writer.h"
#include "protocol/rfc3339.h"

namespace cmdq::app {
namespace {

// Records restored per store write: bounds memory, and each write is all or nothing.
constexpr size_t kRestoreChunk = 1000;

std::string HumanBytes(uint64_t b) {
  if (b < 1024) return fmt::format("{} B", b);
  if (b < (uint64_t{1} << 20)) return fmt::format("{:.1f} KiB", b / 1024.0);
  if (b < (uint64_t{1} << 30)) return fmt::format("{:.1f} MiB", b / 1048576.0);
  return fmt::format("{:.2f} GiB", b / 1073741824.0);
}

int Fail(const Status& s) {
  fmt::print(stderr, "cmdq archive: {}\n", s.ToString());
  return 1;
}

int List(const ArchiveCommandOptions& o) {
  auto list = ListArchives(o.dir, /*verify=*/true);
  if (!list) return Fail(list.error());
  if (list->empty()) {
    fmt::print(stderr, "cmdq archive: no archive files in {}\n", o.dir);
    return 0;
  }
  fmt::print("{:<33}  {:>9}  {:>10}  {:<20}  {}\n", "RANGE (first-last id)", "RECORDS", "SIZE",
             "CREATED", "CHECK");
  int code = 0;
  for (const ArchiveInfo& a : *list) {
    const bool ok = a.check.ok();
    fmt::print("{}-{}  {:>9}  {:>10}  {:<20}  {}\n", a.first_id.ToString(), a.last_id.ToString(),
               a.records, HumanBytes(a.file_bytes),
               a.created_at_us ? protocol::FormatRfc3339(a.created_at_us).substr(0, 19) + "Z" : "-",
               ok ? "OK" : "CORRUPT");
    if (!ok) {
      fmt::print(stderr, "  {}\n", a.check.ToString());
      code = 1;
    }
  }
  return code;
}

std::string JsonLine(const StoredCommand& s) {
  protocol::JsonWriter w;
  w.BeginObject().Key("record");
  protocol::WriteRecord(s.record, w);
  w.Key("audit").Raw(protocol::AuditJson(s.audit));
  w.EndObject();
  return w.Release();
}

int Cat(const ArchiveCommandOptions& o) {
  if (!o.json) {
    fmt::print("{:<16}  {:<9}  {:>7}  {:<20}  {:<24}  {:<20}  {}\n", "ID", "STATE", "ATTEMPT",
               "TYPE", "KEY", "UPDATED", "PAYLOAD");
  }
  auto info = ReadArchive(o.file, [&](const StoredCommand& s) {
    const Record& r = s.record;
    if (o.json) {
      fmt::print("{}\n", JsonLine(s));
    } else {
      fmt::print("{:<16}  {:<9}  {:>7}  {:<20.20}  {:<24.24}  {:<20}  {} B\n",
                 r.command.id.ToString(), StateName(r.state), r.attempt, r.command.type,
                 r.command.key, protocol::FormatRfc3339(r.updated_at_us).substr(0, 19) + "Z",
                 r.command.payload.size());
    }
    return Status::Ok();
  });
  std::fflush(stdout);
  if (!info) return Fail(info.error());
  if (!o.json) fmt::print(stderr, "{} records, file intact\n", info->records);
  return 0;
}

// Restores one chunk; when some of its ids are present already, record by record, so
// that repeats (the same range archived twice after a crash) are skipped and counted.
Status RestoreChunk(Store& store, std::vector<StoredCommand>& chunk, uint64_t& restored,
                    uint64_t& skipped) {
  Status s = store.Restore(chunk);
  if (s.ok()) {
    restored += chunk.size();
  } else if (s.code() == StatusCode::kAlreadyExists) {
    for (const StoredCommand& one : chunk) {
      Status r = store.Restore(std::span(&one, 1));
      if (r.ok()) {
        ++restored;
      } else if (r.code() == StatusCode::kAlreadyExists) {
        ++skipped;
      } else {
        return r;
      }
    }
  } else {
    return s;
  }
  chunk.clear();
  return Status::Ok();
}

int RestoreFile(const ArchiveCommandOptions& o) {
  // Checked in full first: a damaged file restores nothing.
  auto checked = ReadArchive(o.file, [](const StoredCommand&) { return Status::Ok(); });
  if (!checked) return Fail(checked.error());
  RocksDbStoreOptions so;
  so.path = o.data_dir;
  so.create_if_missing = o.create;
  auto store = OpenRocksDbStore(std::move(so));
  if (!store) return Fail(store.error());
  uint64_t restored = 0, skipped = 0;
  std::vector<StoredCommand> chunk;
  auto read = ReadArchive(o.file, [&](const StoredCommand& s) {
    chunk.push_back(s);
    if (chunk.size() < kRestoreChunk) return Status::Ok();
    return RestoreChunk(**store, chunk, restored, skipped);
  });
  if (!read) return Fail(read.error());
  if (Status s = RestoreChunk(**store, chunk, restored, skipped); !s.ok()) return Fail(s);
  fmt::print("restored {} records into {}; {} already present, skipped\n", restored, o.data_dir,
             skipped);
  return 0;
}

}  // namespace

CLI::App* AddArchiveCommand(CLI::App& app, ArchiveCommandOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "archive", "Inspect and restore retention's archive files (format: docs/archive.md)");
  cmd->require_subcommand(1);
  cmd->footer(
      "Examples: cmdq archive ls /var/lib/cmdq/archive\n"
      "          cmdq archive cat cmdq-archive-<first>-<last>.cqa --json | jq .record.state\n"
      "          cmdq archive restore FILE --data-dir /var/lib/cmdq/data\n"
      "Exit codes: 0 done; 1 a damaged file or a failed restore; 2 bad usage.");
  CLI::App* ls = cmd->add_subcommand(
      "ls", "List the archive files of a directory and check each in full (OK or CORRUPT)");
  ls->add_option("DIR", options.dir, "Archive directory")->required();
  CLI::App* cat = cmd->add_subcommand("cat", "Print the records of one archive file");
  cat->add_option("FILE", options.file, "Archive file")->required();
  cat->add_flag("--json", options.json,
                "One JSON object per record: {\"record\": <as GET /v1/commands/{id}>, "
                "\"audit\": <as GET /v1/commands/{id}/audit>}");
  CLI::App* restore = cmd->add_subcommand(
      "restore",
      "Put the records of an archive file back into a RocksDB store (stop the server that "
      "uses it first). Records already present are skipped and counted");
  restore->add_option("FILE", options.file, "Archive file")->required();
  restore->add_option("--data-dir", options.data_dir, "The store's data directory")->required();
  restore->add_flag("--create", options.create, "Create the store if the directory is missing");
  return cmd;
}

int RunArchive(CLI::App& archive, const ArchiveCommandOptions& options) {
  if (archive.got_subcommand("ls")) return List(options);
  if (archive.got_subcommand("cat")) return Cat(options);
  if (archive.got_subcommand("restore")) return RestoreFile(options);
  return 2;
}

}  // namespace cmdq::app
