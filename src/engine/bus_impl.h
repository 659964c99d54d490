// Bus::Impl: the Bus's state and the paths shared by its modes. The async machinery lives
// in AsyncEngine; the sync path in sync_runner.cc; admin requests in bus_admin.cc.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_set>

#include "cmdq/bus.h"
#include "engine/async_engine.h"
#include "engine/dedup_table.h"
#include "engine/group_commit.h"
#include "engine/handler_registry.h"
#include "engine/task.h"
#include "engine/waiters.h"

namespace cmdq {

class Bus::Impl {
 public:
  Impl(BusOptions options, BusDeps deps);
  ~Impl();

  Status Register(std::string type, Handler handler, TypeOptions options);
  Status RegisterRemote(std::string type, TypeOptions options);
  Status Start();
  StopReport Stop(StopMode mode);
  Result<CommandId> Submit(Command&& command);  // Bus::Submit owns it: one move less
  std::vector<Result<CommandId>> SubmitBatch(std::vector<Command> commands);
  std::optional<std::vector<Result<CommandId>>> TrySubmitBatch(std::vector<Command>& commands);
  Mode mode() const { return options_.mode; }
  Result<std::string> Execute(Command command, std::chrono::milliseconds timeout);
  Result<Record> Wait(CommandId id, std::chrono::milliseconds timeout);
  Result<Record> Get(CommandId id) const;
  Result<ListPage> List(const ListQuery& query) const;
  Result<std::vector<AuditEvent>> Audit(CommandId id) const;
  Status Cancel(CommandId id);
  Status Undo(CommandId id);
  Status Redrive(CommandId id);
  uint64_t Watch(CommandId id, std::function<void()> done);
  void Unwatch(CommandId id, uint64_t ticket);
  // Remote workers (bus_remote.cc).
  Result<std::vector<LeaseGrant>> Lease(const LeaseAsk& ask, std::chrono::milliseconds wait);
  uint64_t OnLeasable(const std::vector<std::string>& types, std::function<bool()> ready);
  void CancelLeasable(uint64_t ticket);
  Result<int64_t> Heartbeat(std::string_view token, std::chrono::milliseconds extend);
  std::vector<Status> Finish(std::vector<RemoteOutcome> outcomes);
  std::vector<PartitionStats> Partitions() const {
    return engine_ ? engine_->Stats() : std::vector<PartitionStats>();
  }
  uint64_t QueueDepth() const { return engine_ ? engine_->Depth() : 0; }
  uint64_t SyncedWrites() const { return committer_ ? committer_->writes() : 0; }
  uint64_t CommittedBatches() const { return committer_ ? committer_->batches() : 0; }

 private:
  enum class Phase : uint8_t { kCreated, kRunning, kStopping, kStopped };

  // The outcome of a command run to its end in the caller's thread (sync mode).
  struct SyncResult {
    State state;
    std::string result;
    Status error;
  };

  // What a submit does when a command's partition is full.
  enum class Room : uint8_t {
    kWait,       // waits for room (Backpressure::kBlock)
    kFailEach,   // that command fails with kResourceExhausted (Backpressure::kFailFast)
    kAllOrNone,  // nothing of the batch is submitted (TrySubmitBatch)
  };
  Room BackpressureRoom() const {
    return options_.backpressure == Backpressure::kBlock ? Room::kWait : Room::kFailEach;
  }

  // Validates `command`, gives it an id and claims its idempotency key: the command moved
  // into the result, or nullptr for a repeat (*existing says of what). On an error
  // `command` is left as it was.
  Result<std::shared_ptr<const Command>> Admit(Command& command, engine::TypeEntry** type,
                                               CommandId* existing);
  // Admits and submits `commands`, filling `results`. False only for Room::kAllOrNone
  // when a partition was full: then nothing changed and `commands` are as they came.
  bool SubmitAll(std::vector<Command>& commands, Room room,
                 std::vector<Result<CommandId>>& results);
  // Stores and queues admitted commands (async and durable modes); fills `results`.
  // False only for Room::kAllOrNone when a partition was full: nothing was stored.
  bool Enqueue(std::vector<std::pair<std::shared_ptr<const Command>, engine::TypeEntry*>>& cmds,
               std::vector<Result<CommandId>*>& results, Room room);
  // Writes `batch` (the commands of `tasks`, in order) in one store write, then queues
  // the tasks, or on failure gives their room and idempotency keys back; fills `results`.
  // Uses `tasks` as its scratch (the caller drops them after).
  void StoreAndQueue(StoreBatch& batch, std::span<engine::Task*> tasks,
                     std::span<Result<CommandId>*> results);
  Status WriteBatch(StoreBatch& batch);
  Result<CommandId> SubmitSync(std::shared_ptr<const Command> command, engine::TypeEntry& type);
  Result<SyncResult> RunSync(std::shared_ptr<const Command> command, engine::TypeEntry& type,
                             uint32_t first_attempt, State from, bool insert);
  Status WaitUntil(int64_t unix_us);
  Status Recover();
  Status WriteOne(Transition transition);
  Result<std::string> ResultOf(const Record& record) const;
  void OnStored(CommandId id, State state, uint32_t attempt, int64_t submitted_ns,
                int64_t stored_ns, std::string_view type, int64_t run_us);
  void WaitForSubmits();
  Result<engine::TypeEntry*> TypeOf(const Record& record) const;
  // The remote types named in a lease request; kInvalidArgument (field "types") otherwise.
  Result<std::vector<const engine::TypeEntry*>> RemoteTypes(
      const std::vector<std::string>& names) const;
  // A leased command's record says who runs it (the lease is not stored).
  void ShowLease(Record& record) const;

  BusOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Cache> cache_;
  Clock* clock_;
  engine::HandlerRegistry registry_;
  IdGenerator ids_;
  engine::DedupTable dedup_;
  engine::Waiters waiters_;
  std::unique_ptr<engine::GroupCommitter> committer_;  // durable mode only
  std::unique_ptr<engine::AsyncEngine> engine_;
  std::atomic<Phase> phase_{Phase::kCreated};
  std::atomic<int64_t> submits_in_flight_{0};
  std::atomic<uint64_t> completed_while_stopping_{0};
  std::stop_source stop_;  // requested when the bus stops now: sync handlers see it
  // Wakes the ticker when a manual clock moves; nulled before the engine goes away.
  std::shared_ptr<std::atomic<engine::AsyncEngine*>> clock_target_;
  std::mutex undo_mu_;
  std::unordered_set<uint64_t> undoing_;
};

}  // namespace cmdq
