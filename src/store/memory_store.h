// MemoryStore: the in-memory Store backend (NewMemoryStore). See cmdq/store.h for the
// contract; this file says how it is met fast enough for the in-process bus (DESIGN.md §8:
// one insert and two transitions per command at millions of commands a second).
//
// Records are sharded by a hash of their id's run (16 consecutive ids share a shard);
// each shard has its own mutex (a BriefMutex: a completion batch holds its shards for
// microseconds, shorter than a futex sleep and wake-up). A batch locks the shards it
// touches in ascending index order (no deadlock between batches), so the common
// one-record batch takes exactly one lock and a completion batch of the bus (ids in
// submit order) a few. A batch is validated whole under its locks before anything
// changes: all or nothing. Validation looks each record up once and applying reuses what
// it found. A batch of one new command and its own transitions (a sync submit) is checked
// as a chain and applied to the new entry: one lookup, one lock.
//
// Retention is per shard: each shard keeps its ceil(max / shards) most recently terminal
// records and forgets the others in the order they BECAME terminal (not by id). Small
// limits get fewer shards (about one per 256 records kept) so that they stay exact, while
// the total kept never exceeds the limit by more than the shard count (< 0.4%). A write
// forgets before it returns: a multi-shard one after it has released its batch's locks,
// one shard at a time; a one-shard sync submit under the lock it holds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "cmdq/store.h"
#include "core/brief_mutex.h"
#include "store/memory_shard.h"

namespace cmdq::store {

class MemoryStore final : public Store {
 public:
  static constexpr size_t kMaxShards = 64;

  explicit MemoryStore(MemoryStoreOptions options);

  Status Write(const StoreBatch& batch, const WriteOptions& options) override;
  Result<Record> Get(CommandId id) const override;
  // Cost: with a key, O(shards + limit) for the usual page (the key's ids are indexed;
  // the first List by key builds that index: O(records) once);
  // by state or type alone, or with no filter, every record is visited: O(records) per
  // page. Fine for admin listing; callers that page through millions should filter by key.
  Result<ListPage> List(const ListQuery& query) const override;
  Result<std::vector<AuditEvent>> Audit(CommandId id) const override;
  // O(records): visits every shard once, then sorts what is unfinished.
  Result<std::vector<Record>> Unfinished() const override;

  size_t shard_count() const { return slots_.size(); }

 private:
  struct alignas(64) Slot {
    Slot(size_t budget, size_t capacity) : shard(budget, capacity) {}
    mutable BriefMutex mu;
    MemoryShard shard;  // guarded by mu
  };

  // Locks the shards of `mask` in ascending index order; unlocks them on destruction.
  class ShardLocks {
   public:
    ShardLocks(const MemoryStore& store, uint64_t mask);
    ~ShardLocks();
    ShardLocks(const ShardLocks&) = delete;
    ShardLocks& operator=(const ShardLocks&) = delete;

   private:
    const MemoryStore& store_;
    const uint64_t mask_;
  };

  size_t ShardOf(CommandId id) const;
  MemoryShard& ShardFor(CommandId id) const { return slots_[ShardOf(id)]->shard; }
  Status Precheck(const StoreBatch& batch, uint64_t& mask) const;
  // With the batch's shards locked. Leaves in `entries` the entry of each transition
  // (null for one the batch inserts), so that applying needs no second lookup.
  Status Validate(const StoreBatch& batch, std::vector<Entry*>& entries);
  // Write of a batch that inserts one command and moves only it (a sync submit's whole
  // run): one lookup and one lock instead of one lookup per item. Prechecked.
  Status WriteOneNewCommand(const StoreBatch& batch);

  const size_t max_terminal_records_;
  std::vector<std::unique_ptr<Slot>> slots_;
  // Numbers the multi-item batches for Validate; starts at 1 (0 marks no batch).
  alignas(64) std::atomic<uint64_t> next_epoch_{1};
};

}  // namespace cmdq::store
