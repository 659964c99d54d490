#include "store/memory_store.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "store/top_ids.h"

namespace cmdq::store {
namespace {

constexpr uint32_t kMaxListLimit = 1000;
// Retained terminal records per shard before a small limit gets fewer shards (see header).
constexpr size_t kMinRecordsPerShard = 256;
constexpr size_t kInitialShardCapacity = 4096;
// Batches up to this size track their own states in a flat vector; larger ones (group
// commit) in a hash map, so validation stays linear.
constexpr size_t kFlatOverlayMax = 32;

size_t ShardCountFor(size_t max_terminal_records) {
  if (max_terminal_records == 0) return MemoryStore::kMaxShards;
  const size_t wanted =
      std::clamp<size_t>(max_terminal_records / kMinRecordsPerShard, 1, MemoryStore::kMaxShards);
  return std::bit_floor(wanted);
}

// The states a batch has given its ids so far, so that a transition may follow an insert
// or another transition of the same batch.
class BatchStates {
 public:
  explicit BatchStates(size_t batch_size) : use_map_(batch_size > kFlatOverlayMax) {
    if (use_map_) map_.reserve(batch_size);
  }

  std::optional<State> Find(uint64_t id) const {
    if (use_map_) {
      auto it = map_.find(id);
      return it == map_.end() ? std::nullopt : std::optional<State>(it->second);
    }
    for (auto it = flat_.rbegin(); it != flat_.rend(); ++it) {
      if (it->first == id) return it->second;
    }
    return std::nullopt;
  }

  void Set(uint64_t id, State state) {
    if (use_map_) {
      map_[id] = state;
    } else {
      flat_.emplace_back(id, state);  // Find reads the newest first
    }
  }

 private:
  const bool use_map_;
  std::vector<std::pair<uint64_t, State>> flat_;
  std::unordered_map<uint64_t, State> map_;
};

std::string NotFoundMessage(CommandId id) { return "no command " + id.ToString(); }

}  // namespace

MemoryStore::MemoryStore(MemoryStoreOptions options) {
  const size_t shards = ShardCountFor(options.max_terminal_records);
  const size_t budget = (options.max_terminal_records + shards - 1) / shards;
  const size_t capacity =
      std::min(kInitialShardCapacity, budget == 0 ? kInitialShardCapacity : budget + budget / 4);
  slots_.reserve(shards);
  for (size_t i = 0; i < shards; ++i) slots_.push_back(std::make_unique<Slot>(budget, capacity));
}

size_t MemoryStore::ShardOf(CommandId id) const {
  // Ids are time | node | sequence: their low bits are mostly zero at low rates, so mix
  // before taking the top bits.
  return ((id.value() * 0x9E3779B97F4A7C15ull) >> 58) & (slots_.size() - 1);
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

Status MemoryStore::Validate(const StoreBatch& batch) const {
  // A one-item batch cannot refer to itself: skip the bookkeeping on the hot path.
  const bool track = batch.size() > 1;
  BatchStates states(track ? batch.size() : 0);
  for (const NewRecord& r : batch.inserts()) {
    const CommandId id = r.command->id;
    if (ShardFor(id).Find(id.value()) != nullptr || (track && states.Find(id.value()))) {
      return {StatusCode::kAlreadyExists, "command " + id.ToString() + " already exists"};
    }
    if (track) states.Set(id.value(), r.state);
  }
  for (const Transition& t : batch.transitions()) {
    std::optional<State> current = track ? states.Find(t.id.value()) : std::nullopt;
    if (!current) {
      const Entry* e = ShardFor(t.id).Find(t.id.value());
      if (e == nullptr) return Status::NotFound(NotFoundMessage(t.id));
      current = e->state;
    }
    if (*current != t.from) {
      return Status::FailedPrecondition("command " + t.id.ToString() + " is " +
                                        std::string(StateName(*current)) + ", not " +
                                        std::string(StateName(t.from)));
    }
    if (Status s = CheckTransition(t.from, t.to); !s.ok()) return s;
    if (track) states.Set(t.id.value(), t.to);
  }
  return Status::Ok();
}

Status MemoryStore::Write(const StoreBatch& batch, const WriteOptions& /*options*/) {
  if (batch.empty()) return Status::Ok();
  uint64_t mask = 0;
  if (Status s = Precheck(batch, mask); !s.ok()) return s;

  ShardLocks locks(*this, mask);
  if (Status s = Validate(batch); !s.ok()) return s;
  // Inserts first, as StoreBatch promises: a batch may insert and move a command.
  for (const NewRecord& r : batch.inserts()) ShardFor(r.command->id).Insert(r);
  for (const Transition& t : batch.transitions()) ShardFor(t.id).Apply(t);
  for (uint64_t m = mask; m != 0; m &= m - 1) {
    slots_[std::countr_zero(m)]->shard.EnforceRetention();
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
