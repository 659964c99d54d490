// RocksDbStore: the Store interface over one RocksDB database (layout in docs/storage.md,
// "RocksDB store"). Opened by OpenRocksDbStore (open_store.cc), which checks the
// directory and the format version first.
//
// Writes: one mutex serializes validation and apply, so a batch is checked against the
// state that the previous batch left. The in-memory map `live_` holds the status of every
// non-terminal record (bounded by the queue), so validating a transition of a queued or
// running command reads nothing from RocksDB; terminal records that move again (undo,
// re-drive) are read from the `status` column family.
// Reads take a shared lock on `live_` only to copy a status out; they never wait for a
// write's fsync.
// An insert writes no `status` entry when its status is the one InitialStatus() derives
// from the command (`live_` holds it), and no key and type index entries (`pending_index_`
// holds them). A checkpoint (every `checkpoint_every` such inserts, inside an ordinary
// Write) stores the statuses still missing, one index bucket per key and type, and raises
// the persisted watermark below which all of that is stored. Open reads the commands from
// the watermark up (docs/storage.md, "Checkpoints").
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "cmdq/store.h"
#include "core/codec.h"
#include "store/rocksdb/batch_plan.h"

namespace cmdq::rocksdb_store {

// How many entries one List call examines at most before it returns what it found with
// a cursor to continue from (see docs/storage.md): a List over a rare filter never turns
// into a scan of the whole database.
inline constexpr size_t kListScanBudget = 10'000;

// What CheckMeta read (or wrote) in `meta`: fixed at creation, or raised by checkpoints.
struct StoreLayout {
  bool index_key_and_type = true;
  uint64_t complete_below = 0;  // every command with a lower id has its status and index
  size_t checkpoint_every = 65536;
};

inline constexpr char kCompleteBelowKey[] = "status_complete_below";

// The highest id of the `commands` family (0 when it is empty).
Result<uint64_t> NewestCommandId(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* commands,
                                 const std::string& path);

struct Handles {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* commands = nullptr;
  rocksdb::ColumnFamilyHandle* status = nullptr;
  rocksdb::ColumnFamilyHandle* index = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* default_cf = nullptr;
};

class RocksDbStore final : public Store {
 public:
  RocksDbStore(std::string path, Handles handles, StoreLayout layout);
  ~RocksDbStore() override;

  // Rebuilds the in-memory state from the database: the non-terminal records and the
  // highest id. Called once by the opener before the store is handed out.
  Status Load();

  Status Write(const StoreBatch& batch, const WriteOptions& options) override;
  Result<Record> Get(CommandId id) const override;
  Result<ListPage> List(const ListQuery& query) const override;
  Result<std::vector<AuditEvent>> Audit(CommandId id) const override;
  Result<std::vector<Record>> Unfinished() const override;

  // Retention and archival (retention_ops.cc; docs/archive.md).
  Result<std::optional<CommandId>> OldestUnfinished() const override;
  Result<std::vector<StoredCommand>> Scan(CommandId from, CommandId to,
                                          size_t limit) const override;
  Status DeleteRange(CommandId from, CommandId to) override;
  Status Restore(std::span<const StoredCommand> records) override;

 private:
  // The status of `id`: from `live_` when it is there, else from RocksDB.
  Result<std::optional<RecordStatus>> StatusOf(CommandId id) const;
  Result<std::optional<RecordStatus>> StoredStatus(CommandId id) const;
  // StoredStatus, or the derived initial status of a command stored without one above
  // the watermark.
  Result<std::optional<RecordStatus>> DurableStatus(CommandId id) const;
  // Under write_mu_: adds a checkpoint to `plan` when one is due and none is in flight;
  // returns its new watermark (0: none). See the class comment.
  uint64_t PlanCheckpointLocked(std::vector<PlannedRecord>& plan);
  // Ids of `live_` below `before` that may have no `status` entry yet, newest first.
  std::vector<CommandId> UnstoredIds(CommandId before) const;
  // Ids below `before` of the commands with key (by_key) or type `value` that no index
  // entry holds yet, newest first.
  std::vector<uint64_t> PendingIndexIds(bool by_key, const std::string& value,
                                        CommandId before) const;
  // The checkpoint's index buckets: those of checkpoint_index_ below `below`.
  void AddIndexBuckets(uint64_t below, rocksdb::WriteBatch& wb) const;
  // After the checkpoint's write: what it did not store goes back to pending_index_.
  void SettleIndexCheckpoint(uint64_t below, bool stored);
  Result<std::optional<Command>> ReadCommand(CommandId id) const;
  Result<bool> Exists(CommandId id) const;
  Result<std::optional<Record>> Load(CommandId id, std::optional<RecordStatus> status) const;
  void AddToBatch(const PlannedRecord& p, rocksdb::WriteBatch& wb) const;
  // Under write_mu_: marks the plan's ids in flight and counts its unwritten statuses.
  void ClaimLocked(std::vector<PlannedRecord>& plan);
  void ApplyToLive(std::vector<PlannedRecord>& plan);
  // After a failed write: RocksDB may or may not hold it; make `live_` say what it holds.
  void Reconcile(const std::vector<PlannedRecord>& plan);

  // DeleteRange's deletes: for each command in [from, to), its `commands` and `status`
  // entries and (found by decoding it: they are keyed by key and type, not id) its index
  // entries.
  Status AddDeletes(CommandId from, CommandId to, rocksdb::WriteBatch& wb) const;
  // The buckets under `prefix` whose ids all lie in [from, to).
  Status AddBucketDeletes(const std::string& prefix, CommandId from, CommandId to,
                          rocksdb::WriteBatch& wb) const;

  // List's sources (list.cc).
  // The records of one key (by_key) or type.
  Result<ListPage> ListFromIndex(const ListQuery& q, bool by_key, const std::string& value) const;
  Result<ListPage> ListFromLive(const ListQuery& q) const;
  Result<ListPage> ListFromStatus(const ListQuery& q) const;
  // Appends the record of `id` to `page` if it passes every filter of `q`.
  Status Collect(const ListQuery& q, CommandId id, std::optional<RecordStatus> status,
                 ListPage& page) const;

  // Under write_mu_. After a failed write RocksDB refuses writes until resumed: this is
  // how the node recovers once space returns. While it cannot resume, the error that
  // stopped writes is repeated (a full disk stays "disk full").
  Status ResumeIfNeeded(std::string_view what);
  // Under write_mu_: remembers a failed write for ResumeIfNeeded; returns its Status.
  Status WriteFailed(const rocksdb::Status& s, std::string_view what);
  // Under write_mu_: whether `batch` touches an id that a write in flight touches.
  bool TouchesInFlightLocked(const StoreBatch& batch) const;
  // Under write_mu_ (held by `lock`): waits until no Write is between plan and landing.
  void WaitNoneInFlight(std::unique_lock<std::mutex>& lock);

  const std::string path_;
  Handles h_;
  const bool index_key_and_type_;
  const size_t checkpoint_every_;

  std::mutex write_mu_;
  uint64_t max_id_ = 0;  // guarded by write_mu_: ids above it are certainly free
  // Guarded by write_mu_: the ids of the writes planned and not yet landed (every write
  // touches at least one, so empty means none in flight); in_flight_cv_ tells when one
  // lands.
  std::unordered_set<uint64_t> in_flight_;
  std::condition_variable in_flight_cv_;
  bool resume_needed_ = false;  // guarded by write_mu_: a write failed; try DB::Resume()
  Status write_error_;          // guarded by write_mu_: the failure that stopped writes
  // The persisted watermark: written under write_mu_, read by List and Scan without it.
  std::atomic<uint64_t> complete_below_;
  uint64_t checkpoint_claim_ = 0;         // guarded by write_mu_: watermark of one in flight
  size_t deferred_since_checkpoint_ = 0;  // guarded by write_mu_: inserts left to one

  // A command whose index entries wait for a checkpoint.
  struct PendingIndex {
    uint64_t id;
    std::string key;
    std::string type;
  };
  // Changed under write_mu_ and an exclusive index_mu_; read under either. The checkpoint
  // in flight reads checkpoint_index_ without a lock: nothing changes it meanwhile.
  mutable std::shared_mutex index_mu_;
  std::vector<PendingIndex> pending_index_;
  std::vector<PendingIndex> checkpoint_index_;

  // Written under write_mu_ and an exclusive live_mu_; read under either.
  mutable std::shared_mutex live_mu_;
  std::map<CommandId, RecordStatus> live_;
};

}  // namespace cmdq::rocksdb_store
