// MemoryShard: one slice of the memory store — the records whose id hashes to it (in a
// slab pool, found through a flat id map), an index of their partition keys, and the
// retention queue of its terminal records.
//
// Not thread-safe: MemoryStore guards each shard with its own mutex and calls these
// methods with it held. Validation is the store's job (a batch is checked whole before any
// shard changes); the shard applies what it is given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cmdq/record.h"
#include "cmdq/store.h"
#include "core/flat_id_map.h"
#include "store/audit_trail.h"
#include "store/slab_pool.h"
#include "store/top_ids.h"

namespace cmdq::store {

// A record as the shard keeps it: the command is shared with the engine (the payload is
// never copied on write), the mutable fields sit beside it. Entries live in the shard's
// slab pool and are recycled, so an Entry* stays valid while the shard lives; whether it
// still holds the same record is told by `id` (and, for retention, `terminal_stamp`).
struct Entry {
  // Validation reads these for every transition: together, first.
  uint64_t id = 0;
  State state = State::kPending;
  // The state a multi-item batch being validated has given the record so far; meaningful
  // only while `batch_epoch` equals that batch's epoch (MemoryStore::Write).
  State batch_state = State::kNone;
  uint32_t attempt = 0;
  uint64_t batch_epoch = 0;
  // Stamped each time the record becomes terminal; a retention queue item whose stamp no
  // longer matches is stale (the record was re-driven or forgotten since). Unique per shard.
  uint64_t terminal_stamp = 0;
  std::shared_ptr<const Command> command;
  int64_t lease_expires_us = 0;
  int64_t next_attempt_us = 0;
  // updated_at_us and the lease holder are the last audit event's time and worker.
  std::string result;
  std::string error;
  AuditTrail audit;

  Record ToRecord() const;
};

// The filters of a ListQuery, combined with AND.
struct ListFilter {
  const std::string* key = nullptr;
  std::optional<State> state;
  const std::string* type = nullptr;

  bool Matches(const Entry& entry) const;
};

class MemoryShard {
 public:
  // `terminal_budget`: terminal records kept before the oldest are forgotten; 0 = all.
  MemoryShard(size_t terminal_budget, size_t initial_capacity);

  Entry* Find(uint64_t id) {
    Entry** e = records_.Find(id);
    return e == nullptr ? nullptr : *e;
  }
  const Entry* Find(uint64_t id) const { return const_cast<MemoryShard*>(this)->Find(id); }
  // The id is new: the store checked. Returns the record's entry.
  Entry& Insert(const NewRecord& record);
  // `entry` is this shard's and the transition is legal: the store checked.
  void Apply(Entry& entry, const Transition& transition);
  // Forgets the records that became terminal first while more than the budget exist.
  // Amortised O(1) per terminal record: each queue item is popped once.
  void EnforceRetention();

  // Offers to `top` the ids below `before` that match `filter`. With a key filter this
  // walks only that key's ids, newest first, and stops as soon as `top` refuses one;
  // without it, every record of the shard is visited.
  // Not const: it first folds the pending key log into the key index (building the index
  // on the first call with a key).
  void Collect(const ListFilter& filter, uint64_t before, TopIds& top);
  void CollectUnfinished(std::vector<Record>& out) const;

 private:
  static uint64_t KeyHash(const std::string& key);
  void BuildKeyIndex();
  void FoldKeyLog();
  void IndexKey(uint64_t id, uint64_t key_hash);
  void Forget(Entry& entry);
  void CompactKeyIndex();
  void CompactTerminalQueue();

  FlatIdMap<Entry*> records_;
  SlabPool<Entry> entries_;
  // Hash of the key -> its ids, ascending. Collisions are harmless: List compares the key.
  // Forgotten ids are removed lazily (counted in key_stale_) so that retention stays O(1).
  // Built on the first List by key (O(records) once) and kept from then on: a bus that
  // never lists by key pays nothing for it on the write path.
  bool key_index_built_ = false;
  std::unordered_map<uint64_t, std::vector<uint64_t>> by_key_;
  // (key hash, id) of inserts not yet in by_key_. An insert only appends here; the index
  // is updated in batches (a lookup per key costs a cache miss; a loop of independent ones
  // overlaps them), when the log is full or a List by key needs it.
  std::vector<std::pair<uint64_t, uint64_t>> key_log_;
  size_t key_stale_ = 0;
  // (entry, stamp) in the order records became terminal: forgetting needs no lookup.
  std::deque<std::pair<Entry*, uint64_t>> terminal_queue_;
  size_t terminal_count_ = 0;
  uint64_t next_stamp_ = 1;
  const size_t terminal_budget_;
};

}  // namespace cmdq::store
