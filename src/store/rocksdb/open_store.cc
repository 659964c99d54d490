// OpenRocksDbStore: checks the directory, opens RocksDB with cmdq's column families,
// checks or writes the format version in `meta`, and loads the in-memory state.
// Never repairs: a damaged store is reported, and left as it was.
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/rate_limiter.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "cmdq/clock.h"
#include "cmdq/rocksdb_store.h"
#include "store/rocksdb/direct_io.h"
#include "store/rocksdb/errors.h"
#include "store/rocksdb/index_hint.h"
#include "store/rocksdb/info_log.h"
#include "store/rocksdb/key_format.h"
#include "store/rocksdb/open_checks.h"
#include "store/rocksdb/rocksdb_store.h"

namespace cmdq {
namespace {

using rocksdb_store::DirState;

constexpr uint64_t kFormatVersion = 2;
constexpr char kFormatVersionKey[] = "format_version";
constexpr char kCreatedAtKey[] = "created_at_us";
constexpr char kIndexKey[] = "index_key_and_type";

bool Lz4Available() {
  auto supported = rocksdb::GetSupportedCompressions();
  return std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end();
}

rocksdb::ColumnFamilyOptions FamilyOptions(const RocksDbStoreOptions& o,
                                           const std::shared_ptr<rocksdb::Cache>& cache,
                                           bool compress, bool bloom, bool hinted) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.write_buffer_bytes;
  cf.max_write_buffer_number = std::max(2, o.max_write_buffers);
  cf.compression = compress && Lz4Available() ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Point lookups of ids that are mostly absent (an insert of an old id, a status of a
  // removed record) cost a filter probe instead of a block read.
  if (bloom) table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Ids grow with time, so each insert lands next to the previous one: a hint per 2-byte
  // id prefix (~18 hours of ids) skips most of the skip-list search (see 0006).
  if (hinted)
    cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(2));
  return cf;
}

rocksdb::DBOptions DatabaseOptions(const RocksDbStoreOptions& o, bool create) {
  rocksdb::DBOptions db;
  db.create_if_missing = create;
  db.create_missing_column_families = create;
  db.paranoid_checks = true;
  db.wal_recovery_mode = o.wal_recovery == WalRecovery::kPointInTime
                             ? rocksdb::WALRecoveryMode::kPointInTimeRecovery
                             : rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db.max_background_jobs = 2;  // flush + compaction on a 2-core machine
  db.keep_log_file_num = 5;
  db.info_log =
      rocksdb_store::NewStderrInfoLog();  // never a LOG file on the data disk: see info_log.h
  // Parallel memtable inserts would disable the insert hints, and measured no better with
  // the store's two writes in flight (decision 0060).
  db.allow_concurrent_memtable_write = false;
  // Two store writes may be in RocksDB at once (RocksDbStore::Write): the WAL append and
  // fsync of one then overlap the memtable inserts of the other.
  db.enable_pipelined_write = true;
  // A memtable flush writes ~130 MB of table file. Synced only at its end, that data sat
  // in the device's cache in front of every log fdatasync made meanwhile: acknowledged
  // writes stalled 20-40 ms once per flush. Written back a MiB at a time, each waiting
  // for the one before, the flush never holds more than that in flight (decision 0065).
  db.bytes_per_sync = 1 << 20;
  db.strict_bytes_per_sync = true;
  // Where the file system allows it, table files are written with O_DIRECT (set at open,
  // SupportsDirectIo): no copy into the page cache, no page churn (decision 0066). Those
  // writes would fill the device's queue in front of log syncs: the limiter lets out at
  // most 2.5 MB per 10 ms step, flushes first, compactions after.
  db.rate_limiter.reset(rocksdb::NewGenericRateLimiter(int64_t{256} << 20, 10'000, 10));
  db.compaction_readahead_size = 2 << 20;  // what RocksDB asks for with direct reads
  return db;
}

Status OpenError(const rocksdb::Status& s, const std::string& path) {
  // RocksDB reports a held LOCK as an IOError whose text mentions the lock, both for
  // another process ("While lock file ... Resource temporarily unavailable") and for
  // this one ("lock hold by current process").
  std::string text = s.ToString();
  if (s.IsIOError() && text.find("lock") != std::string::npos) {
    return Status::Unavailable("data directory " + path +
                               " is in use by another cmdq process (its LOCK is held): stop "
                               "that process or choose another path (" +
                               text + ")");
  }
  if (s.IsCorruption()) {
    return Status::Corruption("data directory " + path + " is damaged: " + text +
                              "; restore it from a backup (cmdq never repairs a store by "
                              "itself; a damaged log may open with wal_recovery = "
                              "kPointInTime, dropping what follows the damage)");
  }
  return rocksdb_store::FromRocks(s, path, "open");
}

// An existing database that RocksDB opened but refused our column families for is
// someone else's; anything else is OpenError's.
Status ExistingOpenError(const rocksdb::Status& s, const rocksdb::DBOptions& db_options,
                         const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                         const std::string& path) {
  std::vector<std::string> names;
  if (!s.IsInvalidArgument() || !rocksdb::DB::ListColumnFamilies(db_options, path, &names).ok()) {
    return OpenError(s, path);
  }
  for (const auto& f : families) {
    if (std::find(names.begin(), names.end(), f.name) == names.end()) {
      return Status::FailedPrecondition("data directory " + path +
                                        " holds a RocksDB database that is not a cmdq store (no "
                                        "column family '" +
                                        f.name + "'); choose another path");
    }
  }
  return OpenError(s, path);
}

Result<uint64_t> ParseNumber(const std::string& text, const std::string& path, const char* name) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Error(Status::Corruption("data directory " + path + ": meta " + name +
                                    " is not a number: '" + text + "'"));
  }
  return v;
}

// Writes the meta of a new store, or of a version 1 store being upgraded (every command
// of which has its status entry, so the watermark starts above the newest).
Status WriteMeta(rocksdb_store::Handles& h, const std::string& path, bool created, bool indexed,
                 uint64_t complete_below) {
  rocksdb::WriteBatch wb;
  (void)wb.Put(h.meta, kFormatVersionKey, std::to_string(kFormatVersion));
  (void)wb.Put(h.meta, rocksdb_store::kCompleteBelowKey, std::to_string(complete_below));
  if (created) {
    (void)wb.Put(h.meta, kCreatedAtKey, std::to_string(SystemClock()->NowMicros()));
    (void)wb.Put(h.meta, kIndexKey, indexed ? "1" : "0");
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = h.db->Write(wo, &wb); !s.ok()) return OpenError(s, path);
  return Status::Ok();
}

Result<uint64_t> ReadNumber(rocksdb_store::Handles& h, const std::string& path, const char* name,
                            std::string_view missing) {
  std::string value;
  auto s = h.db->Get(rocksdb::ReadOptions(), h.meta, name, &value);
  if (s.IsNotFound()) {
    return Error(Status::Corruption("data directory " + path + " has no " + std::string(missing)));
  }
  if (!s.ok()) return Error(OpenError(s, path));
  return ParseNumber(value, path, name);
}

// Checks the format version of an existing store (upgrading version 1 in place), or
// writes it into a new one. Returns what the store's meta fixes.
Result<rocksdb_store::StoreLayout> CheckMeta(rocksdb_store::Handles& h,
                                             const RocksDbStoreOptions& o, bool created) {
  const std::string& path = o.path;
  rocksdb_store::StoreLayout layout{.index_key_and_type = o.index_key_and_type,
                                    .complete_below = 0,
                                    .checkpoint_every = o.checkpoint_every};
  if (created) {
    if (Status s = WriteMeta(h, path, true, o.index_key_and_type, 0); !s.ok()) {
      return Error(std::move(s));
    }
    return layout;
  }
  auto version = ReadNumber(h, path, kFormatVersionKey, "format version");
  if (!version) return Error(std::move(version.error()));
  if (*version > kFormatVersion || *version == 0) {
    return Error(Status::Corruption(
        "data directory " + path + ": store format version " + std::to_string(*version) +
        (*version == 0
             ? " is invalid"
             : " is newer than this build understands (" + std::to_string(kFormatVersion) + ")") +
        "; open it with a cmdq that knows that version"));
  }
  std::string value;
  auto s = h.db->Get(rocksdb::ReadOptions(), h.meta, kIndexKey, &value);
  if (!s.ok()) return Error(OpenError(s, path));
  layout.index_key_and_type = value == "1";
  if (*version == 1) {
    // Version 1 wrote a status entry with every insert. Builds that only know version
    // 1 refuse the store from here on: they would miss commands stored without one.
    auto newest = rocksdb_store::NewestCommandId(*h.db, h.commands, path);
    if (!newest) return Error(std::move(newest.error()));
    layout.complete_below = *newest + 1;
    if (Status w = WriteMeta(h, path, false, layout.index_key_and_type, layout.complete_below);
        !w.ok()) {
      return Error(std::move(w));
    }
    return layout;
  }
  auto below = ReadNumber(h, path, rocksdb_store::kCompleteBelowKey, "status watermark");
  if (!below) return Error(std::move(below.error()));
  layout.complete_below = *below;
  return layout;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenRocksDbStore(RocksDbStoreOptions options) {
  auto dir = rocksdb_store::CheckDataDirectory(options.path, options.create_if_missing);
  if (!dir) return Error(std::move(dir.error()));
  const bool create = *dir != DirState::kStore;
  const std::string& path = options.path;

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, FamilyOptions(options, cache, false, false, false)},
      {"meta", FamilyOptions(options, cache, false, false, false)},
      {"commands", FamilyOptions(options, cache, options.compress_commands, true, true)},
      {"status", FamilyOptions(options, cache, true, true, true)},
      {"index", FamilyOptions(options, cache, true, false, false)},
  };
  families[4].options.memtable_insert_with_hint_prefix_extractor =
      rocksdb_store::NewIndexHintPrefix();
  families[0].options.write_buffer_size = families[1].options.write_buffer_size = 1 << 20;
  rocksdb::DBOptions db_options = DatabaseOptions(options, create);

  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  rocksdb::DB* raw = nullptr;
  if (create) {
    // RocksDB makes only the last directory of the path.
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) {
      return Error(
          {StatusCode::kIoError, "cannot create data directory " + path + ": " + ec.message()});
    }
  }
  db_options.use_direct_io_for_flush_and_compaction =
      options.direct_table_writes && rocksdb_store::SupportsDirectIo(path);
  auto s = rocksdb::DB::Open(db_options, path, families, &cfs, &raw);
  if (!s.ok())
    return Error(create ? OpenError(s, path) : ExistingOpenError(s, db_options, families, path));
  rocksdb_store::Handles h{.db = std::unique_ptr<rocksdb::DB>(raw),
                           .commands = cfs[2],
                           .status = cfs[3],
                           .index = cfs[4],
                           .meta = cfs[1],
                           .default_cf = cfs[0]};
  auto layout = CheckMeta(h, options, create);
  auto store = std::make_unique<rocksdb_store::RocksDbStore>(
      path, std::move(h), layout.value_or(rocksdb_store::StoreLayout{}));
  // The store owns the handles now: an error below closes the database as it goes.
  if (!layout) return Error(std::move(layout.error()));
  if (Status load = store->Load(); !load.ok()) return Error(std::move(load));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace cmdq
