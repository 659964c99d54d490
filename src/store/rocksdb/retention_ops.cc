// RocksDbStore's retention operations: Scan (what the archiver reads), DeleteRange (what
// it removes once the archive is on disk) and Restore (archives put back). Ids are keys in
// big-endian order, so an id range is a key range: one iterator for Scan and for
// DeleteRange, which writes one WriteBatch of point deletes (docs/decisions/0020).
#include <rocksdb/convenience.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <set>
#include <unordered_set>

#include "store/rocksdb/errors.h"
#include "store/rocksdb/index_bucket.h"
#include "store/rocksdb/key_format.h"
#include "store/rocksdb/rocksdb_store.h"

namespace cmdq::rocksdb_store {
namespace {

// Releases a snapshot on every path out of Scan.
class SnapshotGuard {
 public:
  explicit SnapshotGuard(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~SnapshotGuard() { db_->ReleaseSnapshot(snapshot_); }
  SnapshotGuard(const SnapshotGuard&) = delete;
  SnapshotGuard& operator=(const SnapshotGuard&) = delete;
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

Record ToRecord(Command command, RecordStatus& st) {
  return RecordOf(std::move(command), std::move(st));
}

RecordStatus ToStatus(const StoredCommand& s) { return StatusOf(s.record, s.audit); }

}  // namespace

Result<std::optional<CommandId>> RocksDbStore::OldestUnfinished() const {
  std::shared_lock lock(live_mu_);
  if (live_.empty()) return std::nullopt;
  return live_.begin()->first;
}

Result<std::vector<StoredCommand>> RocksDbStore::Scan(CommandId from, CommandId to,
                                                      size_t limit) const {
  std::vector<StoredCommand> out;
  if (from >= to || limit == 0) return out;
  // Read before the snapshot: every command below it has its status entry there.
  const uint64_t complete_below = complete_below_.load();
  // One snapshot for the iterator and the status reads: a record and its status are
  // always seen as of the same write.
  SnapshotGuard snapshot(h_.db.get());
  const std::string lower = IdKey(from);
  const std::string upper = IdKey(to);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.get();
  ro.iterate_upper_bound = &upper_slice;
  ro.fill_cache = false;  // archived data is read once; keep the cache for live reads
  std::unique_ptr<rocksdb::Iterator> it(h_.db->NewIterator(ro, h_.commands));
  for (it->Seek(lower); it->Valid() && out.size() < limit; it->Next()) {
    auto id = ParseIdKey(it->key().ToStringView());
    if (!id) return Error(Status::Corruption("command entry with a malformed key at " + path_));
    auto command = DecodeCommand(it->value().ToStringView());
    if (!command) {
      return Error(Status::Corruption(path_ + ": command " + id->ToString() + ": " +
                                      command.error().message()));
    }
    std::string value;
    rocksdb::ReadOptions point;
    point.snapshot = snapshot.get();
    rocksdb::Status s = h_.db->Get(point, h_.status, IdKey(*id), &value);
    RecordStatus st;
    if (s.IsNotFound() && id->value() >= complete_below) {
      st = InitialStatus(*command);  // inserted since the last checkpoint, never moved
    } else if (s.IsNotFound()) {
      return Error(Status::Corruption(path_ + ": command " + id->ToString() + " has no status"));
    } else if (!s.ok()) {
      return Error(FromRocks(s, path_, "scan"));
    } else {
      auto decoded = DecodeRecordStatus(value, *id);
      if (!decoded) {
        return Error(Status::Corruption(path_ + ": command " + id->ToString() + ": " +
                                        decoded.error().message()));
      }
      st = std::move(*decoded);
    }
    std::vector<AuditEvent> audit = std::move(st.audit);
    out.push_back(
        StoredCommand{.record = ToRecord(std::move(*command), st), .audit = std::move(audit)});
  }
  if (!it->status().ok()) return Error(FromRocks(it->status(), path_, "scan"));
  return out;
}

Status RocksDbStore::AddDeletes(CommandId from, CommandId to, rocksdb::WriteBatch& wb) const {
  const std::string lower = IdKey(from);
  const std::string upper = IdKey(to);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  ro.fill_cache = false;
  std::set<std::string> keys, types;  // whose buckets may lie inside the range
  std::unique_ptr<rocksdb::Iterator> it(h_.db->NewIterator(ro, h_.commands));
  for (it->Seek(lower); it->Valid(); it->Next()) {
    (void)wb.Delete(h_.commands, it->key());
    (void)wb.Delete(h_.status, it->key());
    if (!index_key_and_type_) continue;
    auto command = DecodeCommand(it->value().ToStringView());
    // An undecodable command cannot name its index entries; they stay behind, which
    // readers tolerate (List skips an entry whose command is gone).
    if (!command) continue;
    (void)wb.Delete(h_.index, IndexKey(kKeyIndexTag, command->key, command->id));
    (void)wb.Delete(h_.index, IndexKey(kTypeIndexTag, command->type, command->id));
    keys.insert(std::move(command->key));
    types.insert(std::move(command->type));
  }
  if (!it->status().ok()) return FromRocks(it->status(), path_, "delete range");
  for (const auto& [tag, values] : {std::pair{kKeyBucketTag, &keys}, {kTypeBucketTag, &types}}) {
    for (const std::string& value : *values) {
      if (Status s = AddBucketDeletes(IndexPrefix(tag, value), from, to, wb); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Status RocksDbStore::AddBucketDeletes(const std::string& prefix, CommandId from, CommandId to,
                                      rocksdb::WriteBatch& wb) const {
  const std::string upper = prefix + IdKey(to);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(h_.db->NewIterator(ro, h_.index));
  for (it->Seek(prefix + IdKey(from)); it->Valid(); it->Next()) {
    auto lowest = ParseIndexKey(it->key().ToStringView(), prefix);
    if (!lowest) continue;
    auto ids = DecodeIdBucket(it->value().ToStringView(), lowest->value());
    // A bucket that reaches past the range keeps its place; readers skip its ids whose
    // command is gone. So does one that does not decode.
    if (ids && ids->back() < to.value()) (void)wb.Delete(h_.index, it->key());
  }
  if (!it->status().ok()) return FromRocks(it->status(), path_, "delete range");
  return Status::Ok();
}

Status RocksDbStore::DeleteRange(CommandId from, CommandId to) {
  if (from >= to) return Status::Ok();
  std::unique_lock lock(write_mu_);
  WaitNoneInFlight(lock);
  // Under write_mu_, with none in flight, no Write can move a record of the range while
  // we look and delete.
  if (auto it = live_.lower_bound(from); it != live_.end() && it->first < to) {
    return Status::FailedPrecondition(
        "command " + it->first.ToString() + " is " + std::string(StateName(it->second.state)) +
        ", not terminal: the range up to " + to.ToString() + " cannot be deleted");
  }
  if (Status s = ResumeIfNeeded("delete range"); !s.ok()) return s;
  // Point deletes, not range tombstones: see docs/decisions/0020 (RocksDB 7.8 shares a
  // memtable's insert hints between its point and range-deletion tables).
  rocksdb::WriteBatch wb;
  if (Status s = AddDeletes(from, to, wb); !s.ok()) return s;
  if (wb.Count() == 0) return Status::Ok();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = h_.db->Write(wo, &wb);
  if (!s.ok()) return WriteFailed(s, "delete range");
  // The range is gone logically; files that lie wholly inside it can go at once instead
  // of waiting for compaction to drop them. Space only: a failure here loses nothing.
  const std::string lower = IdKey(from);
  const std::string upper = IdKey(to);
  rocksdb::Slice begin(lower);
  rocksdb::Slice end(upper);
  for (auto* cf : {h_.commands, h_.status}) {
    (void)rocksdb::DeleteFilesInRange(h_.db.get(), cf, &begin, &end, /*include_end=*/false);
  }
  return Status::Ok();
}

Status RocksDbStore::Restore(std::span<const StoredCommand> records) {
  if (records.empty()) return Status::Ok();
  std::unique_lock lock(write_mu_);
  WaitNoneInFlight(lock);
  if (Status s = ResumeIfNeeded("restore"); !s.ok()) return s;
  std::unordered_set<CommandId, CommandIdHash> seen;
  for (const StoredCommand& s : records) {
    const CommandId id = s.record.command.id;
    if (!id.valid()) return Status::InvalidArgument("id", "restore of a record without an id");
    if (!seen.insert(id).second) {
      return {StatusCode::kAlreadyExists, "command " + id.ToString() + " appears twice"};
    }
    auto taken = Exists(id);
    if (!taken) return taken.error();
    if (*taken) return {StatusCode::kAlreadyExists, "command " + id.ToString() + " already exists"};
  }
  rocksdb::WriteBatch wb;
  std::vector<std::pair<CommandId, RecordStatus>> unfinished;
  uint64_t max_id = max_id_;
  for (const StoredCommand& s : records) {
    const Command& c = s.record.command;
    const std::string key = IdKey(c.id);
    RecordStatus st = ToStatus(s);
    (void)wb.Put(h_.commands, key, EncodeCommand(c));
    if (index_key_and_type_) {
      (void)wb.Put(h_.index, IndexKey(kKeyIndexTag, c.key, c.id), rocksdb::Slice());
      (void)wb.Put(h_.index, IndexKey(kTypeIndexTag, c.type, c.id), rocksdb::Slice());
    }
    (void)wb.Put(h_.status, key, EncodeRecordStatus(st));
    if (!IsTerminal(st.state)) unfinished.emplace_back(c.id, std::move(st));
    max_id = std::max(max_id, c.id.value());
  }
  // Raised before the write, as in Write(): should it fail but land, Exists() still looks.
  max_id_ = max_id;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = h_.db->Write(wo, &wb);
  if (!s.ok()) return WriteFailed(s, "restore");
  std::unique_lock live_lock(live_mu_);
  for (auto& [id, st] : unfinished) live_.insert_or_assign(id, std::move(st));
  return Status::Ok();
}

}  // namespace cmdq::rocksdb_store
