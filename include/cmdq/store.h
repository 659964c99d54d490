// Store: where records and their audit trail live. The Bus sees backends only through
// this interface; programs choose one (memory now, RocksDB and PostgreSQL next).
//
// Writes come as a StoreBatch that is applied atomically and in order: inserts of new
// commands and transitions of existing ones, each transition with its audit event. A
// transition names the state it expects to leave (`from`); if the record is in another
// state the whole batch is refused with kFailedPrecondition and nothing changes.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cmdq/command.h"
#include "cmdq/record.h"
#include "cmdq/status.h"

namespace cmdq {

struct Transition {
  CommandId id;
  State from = State::kNone;
  State to = State::kNone;
  int64_t time_us = 0;
  uint32_t attempt = 0;               // the record's attempt count after the transition
  std::string worker;                 // becomes the lease holder when `to` is running
  int64_t lease_expires_us = 0;       // when `to` is running
  std::string message;                // the audit event's message (error or note)
  std::optional<std::string> result;  // set the record's result
  std::optional<std::string> error;   // set (or, with "", clear) the last error
  int64_t next_attempt_us = 0;        // when `to` is failed: the retry time
};

struct NewRecord {
  std::shared_ptr<const Command> command;  // shared with the engine; never mutated
  State state = State::kPending;           // pending or scheduled
  int64_t time_us = 0;                     // of the first audit event
};

class StoreBatch {
 public:
  void Insert(std::shared_ptr<const Command> command, State state, int64_t time_us) {
    inserts_.push_back({std::move(command), state, time_us});
  }
  void Apply(Transition transition) { transitions_.push_back(std::move(transition)); }
  // Appends a transition of `id` from `from` to `to` and returns it for the rest of its
  // fields: built in place, as the engine's hot paths want (a Transition is ~200 bytes).
  Transition& Apply(CommandId id, State from, State to, uint32_t attempt, int64_t time_us) {
    Transition& t = transitions_.emplace_back();
    t.id = id;
    t.from = from;
    t.to = to;
    t.attempt = attempt;
    t.time_us = time_us;
    return t;
  }
  void Clear() {
    inserts_.clear();
    transitions_.clear();
  }
  // Moves `other`'s items to the end of this batch (group commit); `other` is left empty.
  void Absorb(StoreBatch& other) {
    for (auto& r : other.inserts_) inserts_.push_back(std::move(r));
    for (auto& t : other.transitions_) transitions_.push_back(std::move(t));
    other.Clear();
  }
  // Moves this batch's last `inserts` inserts and last `transitions` transitions back to
  // the end of `to` (group commit: a failed group write returns each writer's items).
  void MoveTailTo(StoreBatch& to, size_t inserts, size_t transitions) {
    for (size_t i = inserts_.size() - inserts; i < inserts_.size(); ++i) {
      to.inserts_.push_back(std::move(inserts_[i]));
    }
    for (size_t i = transitions_.size() - transitions; i < transitions_.size(); ++i) {
      to.transitions_.push_back(std::move(transitions_[i]));
    }
    inserts_.resize(inserts_.size() - inserts);
    transitions_.resize(transitions_.size() - transitions);
  }
  bool empty() const { return inserts_.empty() && transitions_.empty(); }
  size_t size() const { return inserts_.size() + transitions_.size(); }
  const std::vector<NewRecord>& inserts() const { return inserts_; }
  const std::vector<Transition>& transitions() const { return transitions_; }

 private:
  // Inserts are applied before transitions, so a batch may insert and move a command.
  std::vector<NewRecord> inserts_;
  std::vector<Transition> transitions_;
};

struct ListQuery {
  std::optional<std::string> key;
  std::optional<State> state;
  std::optional<std::string> type;
  CommandId before;      // cursor: only ids below it; empty = from the newest
  uint32_t limit = 100;  // 1..1000
};

struct ListPage {
  std::vector<Record> records;  // newest first
  CommandId next_cursor;        // pass as `before` for the next page; empty = no more
};

// A record with its whole audit trail: the unit of Scan, Restore and archive files
// (docs/archive.md). `audit` is in sequence order, 0, 1, 2...
struct StoredCommand {
  Record record;
  std::vector<AuditEvent> audit;
};

struct WriteOptions {
  // true: return only after the batch is on disk (survives a power loss). Memory stores
  // ignore it.
  bool sync = false;
};

class Store {
 public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Applies the batch atomically. kAlreadyExists if an insert's id exists; kNotFound or
  // kFailedPrecondition if a transition's record is missing or not in `from`.
  virtual Status Write(const StoreBatch& batch, const WriteOptions& options) = 0;
  virtual Result<Record> Get(CommandId id) const = 0;
  virtual Result<ListPage> List(const ListQuery& query) const = 0;
  virtual Result<std::vector<AuditEvent>> Audit(CommandId id) const = 0;
  // Every record not in a terminal state, oldest first: what recovery re-queues.
  virtual Result<std::vector<Record>> Unfinished() const = 0;

  // Retention and archival (docs/archive.md). Optional: a backend that cannot do them
  // keeps these defaults, which fail with kFailedPrecondition.

  // The id of the oldest record not in a terminal state; nullopt when there is none.
  // Retention never deletes at or above it. The default asks Unfinished(), which loads
  // every such record; backends that keep their non-terminal ids at hand do better.
  virtual Result<std::optional<CommandId>> OldestUnfinished() const {
    auto unfinished = Unfinished();
    if (!unfinished) return Error(std::move(unfinished.error()));
    if (unfinished->empty()) return std::nullopt;
    return unfinished->front().command.id;
  }
  // Up to `limit` records with ids in [from, to), oldest first, each with its audit
  // trail, as one consistent view. Fewer than `limit` means the range is exhausted.
  virtual Result<std::vector<StoredCommand>> Scan(CommandId from, CommandId to,
                                                  size_t limit) const {
    (void)from, (void)to, (void)limit;
    return Error(Status::FailedPrecondition("this store does not support Scan"));
  }
  // Removes every record with an id in [from, to), with its status, audit trail and index
  // entries, atomically. kFailedPrecondition (and nothing removed) if a record in the
  // range is not terminal: retention must never drop a command that may still run.
  virtual Status DeleteRange(CommandId from, CommandId to) {
    (void)from, (void)to;
    return Status::FailedPrecondition("this store does not support DeleteRange");
  }
  // Puts records back as they were (command, state, result, audit trail), e.g. from an
  // archive. All or nothing: kAlreadyExists, and nothing written, if any id is present
  // (or appears twice); kInvalidArgument for a record without an id.
  virtual Status Restore(std::span<const StoredCommand> records) {
    (void)records;
    return Status::FailedPrecondition("this store does not support Restore");
  }
};

struct MemoryStoreOptions {
  // Terminal records kept before the oldest are forgotten (0 = keep all). Bounds memory
  // of a long-running in-process bus: ~1.5 KB per 1 KB-payload command, so ~150 MB by
  // default. More keeps a longer history for Get/List/Audit; less recycles memory sooner.
  size_t max_terminal_records = 100'000;
};

// The in-memory backend: for tests and the in-process modes; nothing survives the process.
std::unique_ptr<Store> NewMemoryStore(MemoryStoreOptions options = {});

}  // namespace cmdq
