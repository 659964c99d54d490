// BatchPlan: checks a StoreBatch against the stored state and computes each touched
// record's new status, without writing anything. The RocksDB store writes the plan in
// one WriteBatch only when every item checks out, so a refused batch changes nothing.
// Pure logic over two lookups; not thread-safe (the store calls it under its write lock).
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "cmdq/store.h"
#include "core/codec.h"

namespace cmdq::rocksdb_store {

struct PlannedRecord {
  CommandId id;
  const Command* inserted = nullptr;  // set when the batch inserts it (owned by the batch)
  RecordStatus status;                // after every item of the batch that touches it
  // false: an insert whose status InitialStatus() derives from the command; its `status`
  // entry is left to the next checkpoint (docs/storage.md, "Checkpoints").
  bool write_status = true;
  // true: an insert whose key and type index entries are left to the next checkpoint.
  bool defer_index = false;
};

// Whether an id is taken by a stored command.
using ExistsFn = std::function<Result<bool>(CommandId)>;
// The stored status of an id; nullopt when no such command is stored.
using LookupFn = std::function<Result<std::optional<RecordStatus>>(CommandId)>;

// One entry per touched id, in the order the batch first touches them; several
// transitions of one id coalesce into one entry (one RocksDB Put). Errors: kInvalidArgument
// (an insert without command or id), kAlreadyExists, kNotFound, kFailedPrecondition, or
// whatever a lookup returned.
Result<std::vector<PlannedRecord>> PlanBatch(const StoreBatch& batch, const ExistsFn& exists,
                                             const LookupFn& lookup);

// The status the bus gives a command it inserts: pending (scheduled when not_before is
// later than created_at) at created_at, with its creating audit event. The store can
// derive it from the command alone, so it need not write it.
RecordStatus InitialStatus(const Command& command);
// Whether a planned insert's `status` is exactly InitialStatus(command).
bool IsInitialStatus(const Command& command, const RecordStatus& status);

// The status a transition leaves (also appends its audit event). Exposed for tests.
void ApplyTransition(const Transition& t, RecordStatus& status);

}  // namespace cmdq::rocksdb_store
