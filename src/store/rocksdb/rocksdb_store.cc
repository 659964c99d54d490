#include "store/rocksdb/rocksdb_store.h"

#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "store/rocksdb/errors.h"
#include "store/rocksdb/index_bucket.h"
#include "store/rocksdb/key_format.h"

namespace cmdq::rocksdb_store {
namespace {

// The thread's WriteBatch, cleared and kept between writes: a group commit's batch is
// hundreds of KB, and a fresh one grows by copies into pages the allocator has to fault
// in again (~2% of the durable server's CPU). A batch that grew past kKeepAtMost (a
// checkpoint's) is dropped rather than held.
class ReusedWriteBatch {
 public:
  ReusedWriteBatch() : batch_(Mine()) {}  // left cleared by the last one
  ~ReusedWriteBatch() {
    constexpr size_t kKeepAtMost = size_t{4} << 20;
    if (batch_.GetDataSize() > kKeepAtMost) batch_ = rocksdb::WriteBatch();
    batch_.Clear();
  }
  ReusedWriteBatch(const ReusedWriteBatch&) = delete;
  ReusedWriteBatch& operator=(const ReusedWriteBatch&) = delete;
  rocksdb::WriteBatch& batch() { return batch_; }

 private:
  static rocksdb::WriteBatch& Mine() {
    thread_local rocksdb::WriteBatch batch;
    return batch;
  }
  rocksdb::WriteBatch& batch_;
};

}  // namespace

Result<uint64_t> NewestCommandId(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* commands,
                                 const std::string& path) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> last(db.NewIterator(ro, commands));
  last->SeekToLast();
  if (!last->status().ok()) return Error(FromRocks(last->status(), path, "open"));
  if (!last->Valid()) return uint64_t{0};
  auto id = ParseIdKey(last->key().ToStringView());
  if (!id) return Error(Status::Corruption("command entry with a malformed key at " + path));
  return id->value();
}

RocksDbStore::RocksDbStore(std::string path, Handles handles, StoreLayout layout)
    : path_(std::move(path)),
      h_(std::move(handles)),
      index_key_and_type_(layout.index_key_and_type),
      checkpoint_every_(std::max<size_t>(1, layout.checkpoint_every)),
      complete_below_(layout.complete_below) {}

RocksDbStore::~RocksDbStore() {
  for (auto* cf : {h_.commands, h_.status, h_.index, h_.meta, h_.default_cf}) {
    if (cf != nullptr) (void)h_.db->DestroyColumnFamilyHandle(cf);
  }
  // Close() flushes nothing (the WAL already holds every write) and releases the LOCK.
  if (h_.db) (void)h_.db->Close();
}

Status RocksDbStore::Load() {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(h_.db->NewIterator(ro, h_.status));
  std::map<CommandId, RecordStatus> live;
  const uint64_t complete_below = complete_below_.load();
  std::vector<uint64_t> stored_above;  // ids at or above the watermark with an entry
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto id = ParseIdKey(it->key().ToStringView());
    if (!id) return Status::Corruption("status entry with a malformed key at " + path_);
    if (id->value() >= complete_below) stored_above.push_back(id->value());
    std::string_view value = it->value().ToStringView();
    // Terminal records are most of the database: read their state byte (field 1, a
    // one-byte varint) without decoding the rest. Anything unexpected is decoded fully.
    if (value.size() > 2 && value[0] == kRecordStatusMagic && value[1] == kCodecVersion &&
        static_cast<uint8_t>(value[2]) < kStateCount && IsTerminal(static_cast<State>(value[2]))) {
      continue;
    }
    auto st = DecodeRecordStatus(value, *id);
    if (!st) {
      return Status::Corruption(path_ + ": command " + id->ToString() + ": " +
                                st.error().message());
    }
    if (!IsTerminal(st->state)) live.emplace(*id, std::move(*st));
  }
  if (!it->status().ok()) return FromRocks(it->status(), path_, "load");
  // Commands from the watermark up were inserted since the last checkpoint: those without
  // a status entry never moved (their status is the initial one), and none is indexed.
  size_t deferred = 0;
  std::vector<PendingIndex> pending;
  std::unique_ptr<rocksdb::Iterator> recent(h_.db->NewIterator(ro, h_.commands));
  for (recent->Seek(IdKey(CommandId(complete_below))); recent->Valid(); recent->Next()) {
    auto id = ParseIdKey(recent->key().ToStringView());
    if (!id) return Status::Corruption("command entry with a malformed key at " + path_);
    const bool stored = std::binary_search(stored_above.begin(), stored_above.end(), id->value());
    if (stored && !index_key_and_type_) continue;
    auto command = DecodeCommand(recent->value().ToStringView());
    if (!command) {
      return Status::Corruption(path_ + ": command " + id->ToString() + ": " +
                                command.error().message());
    }
    if (!stored) live.emplace(*id, InitialStatus(*command));
    if (index_key_and_type_) {
      pending.push_back({.id = id->value(), .key = command->key, .type = command->type});
    }
    ++deferred;
  }
  if (!recent->status().ok()) return FromRocks(recent->status(), path_, "load");
  auto max_id = NewestCommandId(*h_.db, h_.commands, path_);
  if (!max_id) return max_id.error();
  std::scoped_lock lock(write_mu_, live_mu_, index_mu_);
  live_ = std::move(live);
  max_id_ = *max_id;
  deferred_since_checkpoint_ = deferred;
  pending_index_ = std::move(pending);
  return Status::Ok();
}

Result<std::optional<RecordStatus>> RocksDbStore::StoredStatus(CommandId id) const {
  std::string value;
  rocksdb::Status s = h_.db->Get(rocksdb::ReadOptions(), h_.status, IdKey(id), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return Error(FromRocks(s, path_, "read"));
  auto st = DecodeRecordStatus(value, id);
  if (!st) return Error(Status::Corruption(path_ + ": " + st.error().message()));
  return std::move(*st);
}

Result<std::optional<RecordStatus>> RocksDbStore::DurableStatus(CommandId id) const {
  // Read before the status: a checkpoint that lands between the two only makes the
  // derived case rarer.
  const uint64_t complete_below = complete_below_.load();
  auto stored = StoredStatus(id);
  if (!stored || *stored || id.value() < complete_below) return stored;
  // Inserted since the last checkpoint and never moved (or its first move is still on
  // its way to RocksDB: this is the status before it).
  auto command = ReadCommand(id);
  if (!command) return Error(std::move(command.error()));
  if (!*command) return std::nullopt;
  return InitialStatus(**command);
}

Result<std::optional<RecordStatus>> RocksDbStore::StatusOf(CommandId id) const {
  {
    std::shared_lock lock(live_mu_);
    if (auto it = live_.find(id); it != live_.end()) return it->second;
  }
  // Not in `live_`: terminal, or written a moment ago and not in `live_` yet.
  return DurableStatus(id);
}

Result<std::optional<Command>> RocksDbStore::ReadCommand(CommandId id) const {
  std::string value;
  rocksdb::Status s = h_.db->Get(rocksdb::ReadOptions(), h_.commands, IdKey(id), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return Error(FromRocks(s, path_, "read"));
  auto c = DecodeCommand(value);
  if (!c) return Error(Status::Corruption(path_ + ": " + c.error().message()));
  return std::move(*c);
}

Result<bool> RocksDbStore::Exists(CommandId id) const {
  // Ids come from a time-ordered generator: a new one is above every stored id, and
  // that is known without a read. Only older ids (restore, a clock step back) pay one.
  if (id.value() > max_id_) return false;
  std::string value;
  rocksdb::Status s = h_.db->Get(rocksdb::ReadOptions(), h_.commands, IdKey(id), &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return Error(FromRocks(s, path_, "read"));
  return true;
}

void RocksDbStore::AddToBatch(const PlannedRecord& p, rocksdb::WriteBatch& wb) const {
  std::string key = IdKey(p.id);
  if (p.inserted != nullptr) {
    // Status of these Puts: WriteBatch only fails on a batch over 4 GiB, which the
    // engine's batch sizes never approach; db->Write would report it anyway.
    (void)wb.Put(h_.commands, key, EncodeCommand(*p.inserted));
    if (index_key_and_type_ && !p.defer_index) {
      (void)wb.Put(h_.index, IndexKey(kKeyIndexTag, p.inserted->key, p.id), rocksdb::Slice());
      (void)wb.Put(h_.index, IndexKey(kTypeIndexTag, p.inserted->type, p.id), rocksdb::Slice());
    }
  }
  if (p.write_status) (void)wb.Put(h_.status, key, EncodeRecordStatus(p.status));
}

void RocksDbStore::ApplyToLive(std::vector<PlannedRecord>& plan) {
  std::unique_lock lock(live_mu_);
  for (PlannedRecord& p : plan) {
    if (IsTerminal(p.status.state)) {
      live_.erase(p.id);
    } else {
      live_.insert_or_assign(p.id, std::move(p.status));
    }
  }
}

void RocksDbStore::Reconcile(const std::vector<PlannedRecord>& plan) {
  for (const PlannedRecord& p : plan) {
    auto stored = DurableStatus(p.id);
    if (!stored) continue;  // unreadable now; the next open rebuilds `live_` from disk
    std::unique_lock lock(live_mu_);
    if (*stored && !IsTerminal((*stored)->state)) {
      live_.insert_or_assign(p.id, std::move(**stored));
    } else {
      live_.erase(p.id);
    }
  }
}

bool RocksDbStore::TouchesInFlightLocked(const StoreBatch& batch) const {
  if (in_flight_.empty()) return false;
  for (const auto& insert : batch.inserts()) {
    if (insert.command && in_flight_.contains(insert.command->id.value())) return true;
  }
  for (const Transition& t : batch.transitions()) {
    if (in_flight_.contains(t.id.value())) return true;
  }
  return false;
}

void RocksDbStore::WaitNoneInFlight(std::unique_lock<std::mutex>& lock) {
  in_flight_cv_.wait(lock, [this] { return in_flight_.empty(); });
}

// Planned under write_mu_, written outside it: two writes can be in RocksDB at once, so
// that with pipelined writes the fsync of one overlaps the memtable inserts of the other
// (a synced write is otherwise one serial chain: inserts, WAL append, fsync). Two writes
// in flight never touch the same id (a batch that would waits), so the order in which
// RocksDB applies them cannot matter, and `live_` is updated after each lands.
Status RocksDbStore::Write(const StoreBatch& batch, const WriteOptions& options) {
  if (batch.empty()) return Status::Ok();
  std::vector<PlannedRecord> plan;
  uint64_t checkpoint = 0;
  {
    std::unique_lock lock(write_mu_);
    if (resume_needed_) WaitNoneInFlight(lock);  // Resume() wants the writes settled
    if (Status s = ResumeIfNeeded("write"); !s.ok()) return s;
    in_flight_cv_.wait(lock, [&] { return !TouchesInFlightLocked(batch); });
    auto exists = [this](CommandId id) { return Exists(id); };
    auto lookup = [this](CommandId id) -> Result<std::optional<RecordStatus>> {
      // Under write_mu_ nobody else changes live_, so reading it needs no live_mu_; no
      // write in flight touches `id`, so `live_` or RocksDB has its latest status.
      if (auto it = live_.find(id); it != live_.end()) return it->second;
      return StoredStatus(id);
    };
    auto planned = PlanBatch(batch, exists, lookup);
    if (!planned) return planned.error();
    plan = std::move(*planned);
    ClaimLocked(plan);
    checkpoint = PlanCheckpointLocked(plan);
  }
  ReusedWriteBatch reused;
  rocksdb::WriteBatch& wb = reused.batch();
  // In id order: each memtable then takes its keys ascending, so that its insert hint
  // (the place of the last insert) stays valid and an insert costs a few comparisons,
  // not a search from the top of the skip list. Completions come in partition order,
  // scattered over the ids in flight; searching for their place was ~14% of the CPU.
  thread_local std::vector<const PlannedRecord*> order;
  order.clear();
  for (const PlannedRecord& p : plan) order.push_back(&p);
  std::sort(order.begin(), order.end(),
            [](const PlannedRecord* a, const PlannedRecord* b) { return a->id < b->id; });
  for (const PlannedRecord* p : order) AddToBatch(*p, wb);
  if (checkpoint != 0) {
    AddIndexBuckets(checkpoint, wb);
    (void)wb.Put(h_.meta, kCompleteBelowKey, std::to_string(checkpoint));
  }
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  const rocksdb::Status s = h_.db->Write(wo, &wb);

  std::lock_guard lock(write_mu_);
  Status result = Status::Ok();
  if (s.ok()) {
    ApplyToLive(plan);
  } else {
    Reconcile(plan);
    result = WriteFailed(s, "write");
  }
  for (const PlannedRecord& p : plan) in_flight_.erase(p.id.value());
  if (checkpoint != 0) {
    if (s.ok()) complete_below_.store(checkpoint);
    SettleIndexCheckpoint(checkpoint, s.ok());
    checkpoint_claim_ = 0;
  }
  in_flight_cv_.notify_all();
  return result;
}

void RocksDbStore::ClaimLocked(std::vector<PlannedRecord>& plan) {
  // An insert below a watermark (persisted, or claimed by a checkpoint in flight) must
  // carry its status and index entries: no checkpoint will look at it again.
  const uint64_t floor = std::max(complete_below_.load(), checkpoint_claim_);
  size_t deferred_index = 0;
  for (PlannedRecord& p : plan) {
    in_flight_.insert(p.id.value());
    if (p.inserted == nullptr) continue;
    // Raised before the write: should the write fail but land, Exists() still looks.
    max_id_ = std::max(max_id_, p.id.value());
    if (p.id.value() < floor) continue;
    p.write_status = !IsInitialStatus(*p.inserted, p.status);
    p.defer_index = index_key_and_type_;
    if (!p.write_status || p.defer_index) ++deferred_since_checkpoint_;
    if (p.defer_index) ++deferred_index;
  }
  if (deferred_index == 0) return;
  std::unique_lock lock(index_mu_);
  for (const PlannedRecord& p : plan) {
    if (!p.defer_index) continue;
    pending_index_.push_back(
        {.id = p.id.value(), .key = p.inserted->key, .type = p.inserted->type});
  }
}

uint64_t RocksDbStore::PlanCheckpointLocked(std::vector<PlannedRecord>& plan) {
  if (deferred_since_checkpoint_ < checkpoint_every_ || checkpoint_claim_ != 0) return 0;
  // The new watermark stays below every id in flight at or above the old one (this
  // plan's included, as ClaimLocked put them there): such a write may be an insert
  // without its status, or a move whose status must not race the checkpoint's copy.
  // Moves of older ids cannot race it (it writes nothing below the old watermark), and
  // counting them would stall checkpoints whenever a backlog older than the watermark
  // is being worked off.
  const uint64_t from = complete_below_.load();
  uint64_t below = max_id_ + 1;
  for (uint64_t id : in_flight_) {
    if (id >= from) below = std::min(below, id);
  }
  if (below <= from) return 0;
  // Under write_mu_ nobody else changes live_: reading it needs no live_mu_.
  for (auto it = live_.lower_bound(CommandId(from)); it != live_.end() && it->first.value() < below;
       ++it) {
    // A status with one event may never have been written (one with more was, by the
    // write that moved it; after a failed write, Reconcile derived it again).
    if (it->second.audit.size() != 1) continue;
    in_flight_.insert(it->first.value());
    plan.push_back(PlannedRecord{.id = it->first, .status = it->second});
  }
  if (index_key_and_type_) {
    // Kept readable until the write lands: List looks here and in RocksDB.
    std::unique_lock lock(index_mu_);
    checkpoint_index_.swap(pending_index_);
  }
  checkpoint_claim_ = below;
  deferred_since_checkpoint_ = 0;
  return below;
}

void RocksDbStore::AddIndexBuckets(uint64_t below, rocksdb::WriteBatch& wb) const {
  // One bucket per key and per type: sort the checkpoint's entries by value, then id.
  for (const bool by_key : {true, false}) {
    std::vector<std::pair<std::string_view, uint64_t>> entries;
    entries.reserve(checkpoint_index_.size());
    for (const PendingIndex& e : checkpoint_index_) {
      if (e.id < below) entries.emplace_back(by_key ? e.key : e.type, e.id);
    }
    std::sort(entries.begin(), entries.end());
    // An insert that failed without landing and was tried again left its entry twice:
    // a bucket holds each id once.
    entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
    const char tag = by_key ? kKeyBucketTag : kTypeBucketTag;
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < entries.size(); ++i) {
      ids.push_back(entries[i].second);
      if (i + 1 < entries.size() && entries[i + 1].first == entries[i].first) continue;
      (void)wb.Put(h_.index, IndexKey(tag, entries[i].first, CommandId(ids.front())),
                   EncodeIdBucket(ids));
      ids.clear();
    }
  }
}

void RocksDbStore::SettleIndexCheckpoint(uint64_t below, bool stored) {
  if (!index_key_and_type_) return;
  std::unique_lock lock(index_mu_);
  for (PendingIndex& e : checkpoint_index_) {
    if (!stored || e.id >= below) pending_index_.push_back(std::move(e));
  }
  checkpoint_index_.clear();
}

Status RocksDbStore::ResumeIfNeeded(std::string_view what) {
  if (!resume_needed_) return Status::Ok();
  rocksdb::Status s = h_.db->Resume();
  if (!s.ok()) {
    return Status(write_error_.code(),
                  fmt::format("{} refused: writes stopped after \"{}\" and cannot resume yet ({})",
                              what, write_error_.message(), s.ToString()),
                  write_error_.field());
  }
  resume_needed_ = false;
  return Status::Ok();
}

Status RocksDbStore::WriteFailed(const rocksdb::Status& s, std::string_view what) {
  resume_needed_ = true;
  write_error_ = FromRocks(s, path_, what);
  return write_error_;
}

Result<std::optional<Record>> RocksDbStore::Load(CommandId id,
                                                 std::optional<RecordStatus> status) const {
  auto command = ReadCommand(id);
  if (!command) return Error(std::move(command.error()));
  // Retention removes records but leaves index entries behind: skip those.
  if (!*command) return std::nullopt;
  if (!status) {
    auto st = StatusOf(id);
    if (!st) return Error(std::move(st.error()));
    if (!*st) {
      return Error(Status::Corruption(path_ + ": command " + id.ToString() + " has no status"));
    }
    status = std::move(*st);
  }
  RecordStatus& st = *status;
  return RecordOf(std::move(**command), std::move(st));
}

Result<Record> RocksDbStore::Get(CommandId id) const {
  auto rec = Load(id, std::nullopt);
  if (!rec) return Error(std::move(rec.error()));
  if (!*rec) return Error(Status::NotFound("command " + id.ToString() + " not found"));
  return std::move(**rec);
}

Result<std::vector<AuditEvent>> RocksDbStore::Audit(CommandId id) const {
  auto st = StatusOf(id);
  if (!st) return Error(std::move(st.error()));
  if (!*st) return Error(Status::NotFound("command " + id.ToString() + " not found"));
  return std::move((*st)->audit);
}

Result<std::vector<Record>> RocksDbStore::Unfinished() const {
  std::vector<std::pair<CommandId, RecordStatus>> live;
  {
    std::shared_lock lock(live_mu_);
    live.assign(live_.begin(), live_.end());  // ascending ids: oldest first
  }
  std::vector<Record> out;
  out.reserve(live.size());
  for (auto& [id, st] : live) {
    auto rec = Load(id, std::move(st));
    if (!rec) return Error(std::move(rec.error()));
    if (!*rec) {
      return Error(Status::Corruption(path_ + ": command " + id.ToString() +
                                      " has a status but no command"));
    }
    out.push_back(std::move(**rec));
  }
  return out;
}

}  // namespace cmdq::rocksdb_store
