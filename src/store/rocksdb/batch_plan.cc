#include "store/rocksdb/batch_plan.h"

#include <string>
#include <unordered_map>

namespace cmdq::rocksdb_store {
namespace {

std::string Name(CommandId id) { return "command " + id.ToString(); }

Status CheckInsert(const NewRecord& r) {
  if (!r.command) return Status::InvalidArgument("command", "insert without a command");
  if (!r.command->id.valid())
    return Status::InvalidArgument("id", "insert of a command without an id");
  if (r.state != State::kPending && r.state != State::kScheduled) {
    return Status::InvalidArgument(
        "state", "a new command is pending or scheduled, not " + std::string(StateName(r.state)));
  }
  return Status::Ok();
}

// The status of a command just inserted in `state` at `time_us`.
RecordStatus Created(CommandId id, State state, int64_t time_us) {
  RecordStatus st{.state = state, .updated_at_us = time_us};
  st.audit.push_back(
      AuditEvent{.id = id, .sequence = 0, .time_us = time_us, .from = State::kNone, .to = state});
  return st;
}

State InitialState(const Command& c) {
  return c.not_before_us > c.created_at_us ? State::kScheduled : State::kPending;
}

}  // namespace

RecordStatus InitialStatus(const Command& command) {
  return Created(command.id, InitialState(command), command.created_at_us);
}

bool IsInitialStatus(const Command& command, const RecordStatus& status) {
  // One event: Created() made it and nothing moved it since; its state and time say
  // whether it is the derived one.
  return status.audit.size() == 1 && status.state == InitialState(command) &&
         status.updated_at_us == command.created_at_us;
}

void ApplyTransition(const Transition& t, RecordStatus& st) {
  st.audit.push_back(AuditEvent{.id = t.id,
                                .sequence = static_cast<uint32_t>(st.audit.size()),
                                .time_us = t.time_us,
                                .from = t.from,
                                .to = t.to,
                                .attempt = t.attempt,
                                .worker = t.worker,
                                .message = t.message});
  st.state = t.to;
  st.attempt = t.attempt;
  // Only a running command holds a lease; any other move releases it.
  if (t.to == State::kRunning) {
    st.lease_worker = t.worker;
    st.lease_expires_us = t.lease_expires_us;
  } else {
    st.lease_worker.clear();
    st.lease_expires_us = 0;
  }
  if (t.result) st.result = *t.result;
  if (t.error) st.error = *t.error;
  st.next_attempt_us = t.to == State::kFailed ? t.next_attempt_us : 0;
  st.updated_at_us = t.time_us;
}

Result<std::vector<PlannedRecord>> PlanBatch(const StoreBatch& batch, const ExistsFn& exists,
                                             const LookupFn& lookup) {
  std::vector<PlannedRecord> plan;
  plan.reserve(batch.size());
  std::unordered_map<CommandId, size_t, CommandIdHash> slot;
  slot.reserve(batch.size());
  for (const NewRecord& r : batch.inserts()) {
    if (Status s = CheckInsert(r); !s.ok()) return Error(std::move(s));
    CommandId id = r.command->id;
    if (slot.contains(id)) {
      return Error({StatusCode::kAlreadyExists, Name(id) + " is inserted twice in one batch"});
    }
    auto taken = exists(id);
    if (!taken) return Error(std::move(taken.error()));
    if (*taken) return Error({StatusCode::kAlreadyExists, Name(id) + " already exists"});
    slot.emplace(id, plan.size());
    plan.push_back(PlannedRecord{
        .id = id, .inserted = r.command.get(), .status = Created(id, r.state, r.time_us)});
  }
  for (const Transition& t : batch.transitions()) {
    auto it = slot.find(t.id);
    if (it == slot.end()) {
      auto stored = lookup(t.id);
      if (!stored) return Error(std::move(stored.error()));
      if (!*stored) return Error(Status::NotFound(Name(t.id) + " not found"));
      it = slot.emplace(t.id, plan.size()).first;
      plan.push_back(PlannedRecord{.id = t.id, .status = std::move(**stored)});
    }
    RecordStatus& st = plan[it->second].status;
    if (st.state != t.from) {
      return Error(Status::FailedPrecondition(Name(t.id) + " is " +
                                              std::string(StateName(st.state)) + ", not " +
                                              std::string(StateName(t.from))));
    }
    if (Status s = CheckTransition(t.from, t.to); !s.ok()) {
      return Error(Status::FailedPrecondition(Name(t.id) + ": " + s.message()));
    }
    ApplyTransition(t, st);
  }
  return plan;
}

}  // namespace cmdq::rocksdb_store
