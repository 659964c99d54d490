#include "store/memory_store.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "core/flat_id_map.h"
#include "store/top_ids.h"

namespace cmdq::store {
namespace {

constexpr uint32_t kMaxListLimit = 1000;
// Retained terminal records per shard before a small limit gets fewer shards (see header).
constexpr size_t kMinRecordsPerShard = 256;
constexpr size_t kInitialShardCapacity = 4096;
// log2 of the ids in a run that goes to one shard (see ShardOf).
constexpr int kRunBits = 4;

size_t ShardCountFor(size_t max_terminal_records) {
  if (max_terminal_records == 0) return MemoryStore::kMaxShards;
  const size_t wanted =
      std::clamp<size_t>(max_terminal_records / kMinRecordsPerShard, 1, MemoryStore::kMaxShards);
  return std::bit_floor(wanted);
}

std::string NotFoundMessage(CommandId id) { return "no command " + id.ToString(); }

Status AlreadyExists(CommandId id) {
  return {StatusCode::kAlreadyExists, "command " + id.ToString() + " already exists"};
}

Status NotInState(CommandId id, State actual, State expected) {
  return Status::FailedPrecondition("command " + id.ToString() + " is " +
                                    std::string(StateName(actual)) + ", not " +
                                    std::string(StateName(expected)));
}

// The sync path's batch: one new command and transitions of that command only.
bool IsOneNewCommand(const StoreBatch& batch) {
  if (batch.inserts().size() != 1) return false;
  const CommandId id = batch.inserts().front().command->id;
  return std::all_of(batch.transitions().begin(), batch.transitions().end(),
                     [id](const Transition& t) { return t.id == id; });
}

}  // namespace

MemoryStore::MemoryStore(MemoryStoreOptions options)
    : max_terminal_records_(options.max_terminal_records) {
  const size_t shards = ShardCountFor(options.max_terminal_records);
  const size_t budget = (options.max_terminal_records + shards - 1) / shards;
  const size_t capacity =
      std::min(kInitialShardCapacity, budget == 0 ? kInitialShardCapacity : budget + budget / 4);
  slots_.reserve(shards);
  for (size_t i = 0; i < shards; ++i) slots_.push_back(std::make_unique<Slot>(budget, capacity));
}

size_t MemoryStore::ShardOf(CommandId id) const {
  // Runs of consecutive ids share a shard: a completion batch of the bus (ids in submit
  // order) then locks a few shards instead of all, and inside a shard the flat id map
  // finds neighbours in one cache line. Ids are time | node | sequence, so mix the run
  // number before taking the top bits.
  return (((id.value() >> kRunBits) * 0x9E3779B97F4A7C15ull) >> 58) & (slots_.size() - 1);
}

MemoryStore::ShardLocks::ShardLocks(const MemoryStore& store, uint64_t mask)
    : store_(store), mask_(mask) {
  for (uint64_t m = mask_; m != 0; m &= m - 1) store_.slots_[std::countr_zero(m)]->mu.lock();
}

MemoryStore::ShardLocks::~ShardLocks() {
  for (uint64_t m = mask_; m != 0; m &= m - 1) store_.slots_[std::countr_zero(m)]->mu.unlock();
}

// What can be refused without a lock; also collects the shards the batch touches.
Status MemoryStore::Precheck(const StoreBatch& batch, uint64_t& mask) const {
  for (const NewRecord& r : batch.inserts()) {
    if (r.command == nullptr) return Status::InvalidArgument("command", "insert without a command");
    if (!r.command->id.valid()) return Status::InvalidArgument("id", "insert without an id");
    if (r.state != State::kPending && r.state != State::kScheduled) {
      return Status::InvalidArgument(
          "state", "a new command is pending or scheduled, not " + std::string(StateName(r.state)));
    }
    mask |= uint64_t{1} << ShardOf(r.command->id);
  }
  for (const Transition& t : batch.transitions()) mask |= uint64_t{1} << ShardOf(t.id);
  return Status::Ok();
}

Status MemoryStore::Validate(const StoreBatch& batch, std::vector<Entry*>& entries) {
  // A one-item batch cannot refer to itself: skip the bookkeeping on the hot path. Larger
  // ones mark the entries they move with a fresh epoch and the state so far, so that a
  // transition sees the ones before it; no per-batch map, and stale marks are told apart
  // by their epoch.
  const bool track = batch.size() > 1;
  const uint64_t epoch = track ? next_epoch_.fetch_add(1, std::memory_order_relaxed) : 0;
  // Ids the batch inserts, with the states it gives them: they are in no shard yet.
  std::optional<FlatIdMap<State>> inserted;
  if (track && !batch.inserts().empty()) inserted.emplace(batch.inserts().size());
  for (const NewRecord& r : batch.inserts()) {
    const CommandId id = r.command->id;
    if (ShardFor(id).Find(id.value()) != nullptr ||
        (inserted && !inserted->Insert(id.value(), r.state))) {
      return AlreadyExists(id);
    }
  }
  const std::vector<Transition>& transitions = batch.transitions();
  entries.resize(transitions.size());
  Entry* previous = nullptr;
  for (size_t i = 0; i < transitions.size(); ++i) {
    const Transition& t = transitions[i];
    // The bus moves each command twice in a row: the second finds it without a lookup.
    Entry* e = previous != nullptr && previous->id == t.id.value()
                   ? previous
                   : ShardFor(t.id).Find(t.id.value());
    State* batch_state = nullptr;
    if (e != nullptr) {
      batch_state = track && e->batch_epoch == epoch ? &e->batch_state : &e->state;
    } else if (inserted) {
      batch_state = inserted->Find(t.id.value());
    }
    if (batch_state == nullptr) return Status::NotFound(NotFoundMessage(t.id));
    if (*batch_state != t.from) return NotInState(t.id, *batch_state, t.from);
    if (Status s = CheckTransition(t.from, t.to); !s.ok()) return s;
    if (track) {
      if (e != nullptr) {
        e->batch_epoch = epoch;
        e->batch_state = t.to;
      } else {
        *batch_state = t.to;
      }
    }
    entries[i] = e;  // null for an id this batch inserts: applying looks it up
    previous = e;
  }
  return Status::Ok();
}

Status MemoryStore::WriteOneNewCommand(const StoreBatch& batch) {
  const NewRecord& record = batch.inserts().front();
  const CommandId id = record.command->id;
  // The chain starts at the insert, so it is checked without the store.
  Status chain = Status::Ok();
  State state = record.state;
  for (const Transition& t : batch.transitions()) {
    chain = t.from != state ? NotInState(id, state, t.from) : CheckTransition(t.from, t.to);
    if (!chain.ok()) break;
    state = t.to;
  }
  Slot& slot = *slots_[ShardOf(id)];
  std::lock_guard lock(slot.mu);
  if (slot.shard.Find(id.value()) != nullptr) return AlreadyExists(id);
  if (!chain.ok()) return chain;
  Entry& entry = slot.shard.Insert(record);
  for (const Transition& t : batch.transitions()) slot.shard.Apply(entry, t);
  // One shard: retention shares the lock the write took.
  if (max_terminal_records_ != 0 && !batch.transitions().empty()) slot.shard.EnforceRetention();
  return Status::Ok();
}

Status MemoryStore::Write(const StoreBatch& batch, const WriteOptions& /*options*/) {
  if (batch.empty()) return Status::Ok();
  uint64_t mask = 0;
  if (Status s = Precheck(batch, mask); !s.ok()) return s;
  if (IsOneNewCommand(batch)) return WriteOneNewCommand(batch);

  // The entries validation found, reused by the thread's next batches: no allocation.
  thread_local std::vector<Entry*> entries;
  {
    ShardLocks locks(*this, mask);
    if (Status s = Validate(batch, entries); !s.ok()) return s;
    // Inserts first, as StoreBatch promises: a batch may insert and move a command.
    for (const NewRecord& r : batch.inserts()) ShardFor(r.command->id).Insert(r);
    const std::vector<Transition>& transitions = batch.transitions();
    for (size_t i = 0; i < transitions.size(); ++i) {
      const Transition& t = transitions[i];
      MemoryShard& shard = ShardFor(t.id);
      Entry* e = entries[i] != nullptr ? entries[i] : shard.Find(t.id.value());
      shard.Apply(*e, t);
    }
  }
  // Retention needs no atomicity with the batch: forgetting (cold records, each a few
  // cache misses) happens one shard lock at a time, so a big batch does not hold its
  // shards while it runs and single-record writes to them (the bus's submits) go on.
  // Only a transition makes a record terminal: inserts alone (async submits) leave
  // nothing to forget and skip a second lock of their shard.
  if (max_terminal_records_ == 0 || batch.transitions().empty()) return Status::Ok();
  for (uint64_t m = mask; m != 0; m &= m - 1) {
    Slot& slot = *slots_[std::countr_zero(m)];
    std::lock_guard lock(slot.mu);
    slot.shard.EnforceRetention();
  }
  return Status::Ok();
}

Result<Record> MemoryStore::Get(CommandId id) const {
  const Slot& slot = *slots_[ShardOf(id)];
  std::lock_guard lock(slot.mu);
  const Entry* e = slot.shard.Find(id.value());
  if (e == nullptr) return Error(Status::NotFound(NotFoundMessage(id)));
  return e->ToRecord();
}

Result<std::vector<AuditEvent>> MemoryStore::Audit(CommandId id) const {
  const Slot& slot = *slots_[ShardOf(id)];
  std::lock_guard lock(slot.mu);
  const Entry* e = slot.shard.Find(id.value());
  if (e == nullptr) return Error(Status::NotFound(NotFoundMessage(id)));
  return e->audit.ToEvents(id);
}

Result<ListPage> MemoryStore::List(const ListQuery& query) const {
  if (query.limit < 1 || query.limit > kMaxListLimit) {
    return Error(Status::InvalidArgument(
        "limit", "limit must be between 1 and 1000, got " + std::to_string(query.limit)));
  }
  const ListFilter filter{.key = query.key ? &*query.key : nullptr,
                          .state = query.state,
                          .type = query.type ? &*query.type : nullptr};
  const uint64_t before =
      query.before.valid() ? query.before.value() : std::numeric_limits<uint64_t>::max();

  // Phase 1: the newest limit+1 matching ids (one more than a page tells whether more
  // exist), one shard lock at a time. Phase 2 copies the records out; one that changed or
  // was forgotten in between is skipped, and the cursor still leaves no gap.
  TopIds top(query.limit + 1);
  for (const auto& slot : slots_) {
    std::lock_guard lock(slot->mu);
    slot->shard.Collect(filter, before, top);
  }
  std::vector<uint64_t> ids = top.TakeDescending();
  ListPage page;
  const bool more = ids.size() > query.limit;
  if (more) ids.resize(query.limit);
  page.records.reserve(ids.size());
  for (uint64_t id : ids) {
    const Slot& slot = *slots_[ShardOf(CommandId(id))];
    std::lock_guard lock(slot.mu);
    const Entry* e = slot.shard.Find(id);
    if (e != nullptr && filter.Matches(*e)) page.records.push_back(e->ToRecord());
  }
  if (more) page.next_cursor = CommandId(ids.back());
  return page;
}

Result<std::vector<Record>> MemoryStore::Unfinished() const {
  std::vector<Record> records;
  for (const auto& slot : slots_) {
    std::lock_guard lock(slot->mu);
    slot->shard.CollectUnfinished(records);
  }
  std::sort(records.begin(), records.end(),
            [](const Record& a, const Record& b) { return a.command.id < b.command.id; });
  return records;
}

}  // namespace cmdq::store

namespace cmdq {

std::unique_ptr<Store> NewMemoryStore(MemoryStoreOptions options) {
  return std::make_unique<store::MemoryStore>(options);
}

}  // namespace cmdq
