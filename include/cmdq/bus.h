// Bus: registers handlers, accepts commands, runs them and keeps their records.
//
// Modes (BusOptions::mode):
//  - kSync:    Submit/Execute run the handler in the caller's thread, with its retries.
//  - kAsync:   Submit returns at once; P partitions feed W worker threads. Commands of one
//              key run one at a time in submit order (ordered types), also across retries;
//              a command waiting for its retry holds back only its own key.
//  - kDurable: kAsync whose submits return only once the command is on disk, and whose
//              outcomes are on disk before anyone is told (group commit: concurrent
//              submits and completions share one synced write). Needs a durable store.
// Every method is thread-safe. Register handlers before Start(); Stop() drains or stops.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmdq/cache.h"
#include "cmdq/clock.h"
#include "cmdq/command.h"
#include "cmdq/handler.h"
#include "cmdq/record.h"
#include "cmdq/status.h"
#include "cmdq/store.h"

namespace cmdq {

enum class Mode : uint8_t { kSync, kAsync, kDurable };
enum class Backpressure : uint8_t {
  kBlock,     // a submit to a full partition waits for room
  kFailFast,  // a submit to a full partition fails with kResourceExhausted
};

// A command that reached a final state (or a retry wait), as told to BusOptions::on_finished.
struct Completion {
  CommandId id;
  State state;  // succeeded, failed (will retry), dead or cancelled
  uint32_t attempt;
  int64_t submitted_steady_ns;  // steady clock at submit
  int64_t finished_steady_ns;   // steady clock when the state was stored
  std::string_view type;        // the command's type (valid during the call)
  int64_t run_ns = 0;           // the attempt's run time (0 when none ran: a cancel)
};

// One synced store write of the group commit (durable mode), as told to
// BusOptions::on_commit: for the batch-size and fsync-latency metrics.
struct CommitStats {
  uint32_t batches = 0;  // submit and completion batches merged into the write
  int64_t write_ns = 0;  // the write, fsync included
};

// One partition's backlog now, for metrics.
struct PartitionStats {
  uint32_t depth = 0;         // commands accepted and not finished
  int64_t oldest_age_us = 0;  // age of the oldest runnable command waiting (0 = none)
};

struct BusOptions {
  Mode mode = Mode::kAsync;
  // Partitions (async): more spread keys thinner and cut contention; each costs a little
  // memory. A key's partition is jump_consistent_hash(xxh3(key), partitions).
  uint32_t partitions = 64;
  // Worker threads (async); 0 = the number of cores.
  uint32_t workers = 0;
  // Commands queued per partition before backpressure applies (async). The count holds
  // commands that cannot run yet (scheduled, waiting for a retry, behind a parked key,
  // leased), so a small bound lets one key fill its partition and hold back the others;
  // a producer that outruns the workers is better bounded by its own in-flight limit
  // (W0.async runs with 512: docs/perf.md).
  uint32_t queue_capacity = 65'536;
  Backpressure backpressure = Backpressure::kBlock;
  // Largest payload accepted; bigger submits fail with kInvalidArgument (field payload).
  size_t max_payload_bytes = 1 << 20;
  // A not_before further than this from now, in the past or the future, is refused.
  std::chrono::seconds max_schedule_skew{std::chrono::hours(24 * 365)};
  // How long an idempotency key is remembered.
  std::chrono::seconds dedup_window{std::chrono::hours(24)};
  // The most idempotency keys remembered (about 100 bytes each): past it the oldest are
  // forgotten early, so under heavy load the window is as long as this many submits.
  size_t dedup_max_keys = 1'000'000;
  // Node id stamped into command ids (0..1023): distinct per process of one cluster.
  uint32_t node_id = 0;
  // Called on a worker (or the caller's) thread after each final state is stored. Keep it
  // short: it runs in the hot path. For metrics and benchmarks.
  std::function<void(const Completion&)> on_finished;
  // Called after each synced group-commit write (durable mode), on the writing thread.
  std::function<void(const CommitStats&)> on_commit;
  // Called when a remote worker's lease expires unfinished (the attempt counts as failed).
  std::function<void(std::string_view type)> on_lease_expired;
  // Called as a remote worker leases a command: how long it waited, runnable and offered,
  // for a worker (steady-clock ns). Runs under the lease broker's lock: keep it to a few
  // atomic adds (metrics) and never call the Bus from it.
  std::function<void(std::string_view type, int64_t waited_ns)> on_leased;
  // Remote types: how long a lease lasts when the worker does not say. A worker that
  // neither completes nor heartbeats within it loses the command (the attempt counts).
  std::chrono::milliseconds lease_duration{30'000};
  // Stop(): how long to wait for leased commands to be completed before handing them back.
  std::chrono::milliseconds lease_drain_wait{10'000};
};

// Remote workers (docs/api.md, "Workers"): commands of a type registered with
// RegisterRemote are not run in-process; a worker leases them, runs them anywhere, and
// completes or fails each before its lease expires.
struct LeaseAsk {
  std::vector<std::string> types;         // remote types this worker runs (1 or more)
  uint32_t max = 1;                       // most commands to take (>= 1)
  std::string worker;                     // who runs them: shown in the audit trail
  std::chrono::milliseconds duration{0};  // 0 = BusOptions::lease_duration
};

struct LeaseGrant {
  std::string token;                       // names this lease: heartbeat, complete, fail
  std::shared_ptr<const Command> command;  // what to run
  uint32_t attempt = 1;                    // this run's attempt number
  int64_t deadline_us = 0;                 // unix µs: the lease ends unless heartbeated
  uint32_t timeout_ms = 0;                 // the attempt's own timeout (0 = none)
};

// How a remote worker's run of a leased command ended.
struct RemoteOutcome {
  CommandId id;
  std::string token;  // the lease it was run under
  bool ok = true;     // true: `result`; false: `error`
  std::string result;
  std::string error;
  bool retryable = true;  // false sends it to dead at once
};

// What the Bus is built on: chosen by the program, owned by the Bus.
struct BusDeps {
  std::unique_ptr<Store> store;  // required
  std::unique_ptr<Cache> cache;  // optional result cache
  Clock* clock = SystemClock();  // not owned; must outlive the Bus
};

enum class StopMode : uint8_t {
  kDrain,  // stop accepting, run everything runnable now, then stop
  kNow,    // stop accepting, finish the handlers running now, leave the rest
};

struct StopReport {
  uint64_t completed_while_stopping = 0;
  std::vector<CommandId> left;  // not finished: still pending, scheduled or in backoff
};

class Bus {
 public:
  static Result<std::unique_ptr<Bus>> Create(BusOptions options, BusDeps deps);
  ~Bus();  // stops with kNow if still running
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  // Before Start(). kInvalidArgument for an empty or duplicate type, a missing execute,
  // max_attempts of 0 or an undo-less... (see TypeOptions).
  Status Register(std::string type, Handler handler, TypeOptions options = {});
  // Before Start(): a type whose commands remote workers run (Lease ... Finish).
  Status RegisterRemote(std::string type, TypeOptions options = {});
  Status Start();
  StopReport Stop(StopMode mode = StopMode::kDrain);

  // Accepts a command: returns its id once stored and queued (async) or once finished
  // (sync). With an idempotency key seen within the window: the original id.
  Result<CommandId> Submit(Command command);
  // Submits many commands with one store write (one fsync in durable mode): the way to
  // high durable throughput. Each command gets its own result, in order; a refused one
  // changes nothing and does not stop the others.
  std::vector<Result<CommandId>> SubmitBatch(std::vector<Command> commands);
  // SubmitBatch for an event loop, which must not block. In async mode, when every
  // command finds room in its partition at once, it is SubmitBatch. Otherwise (a full
  // partition; or the durable and sync modes, whose submits wait for the disk or run the
  // handler) it submits nothing, leaves `commands` as they came and returns nullopt:
  // call SubmitBatch where blocking is fine.
  std::optional<std::vector<Result<CommandId>>> TrySubmitBatch(std::vector<Command>& commands);
  // Submits and waits for the final state; returns the handler's result, or the error of
  // the last attempt (the command went dead, was cancelled, or `timeout` elapsed).
  Result<std::string> Execute(Command command,
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits until the command is terminal (or failed and waiting for its retry is not
  // enough: terminal only), at most `timeout`; returns its record either way.
  Result<Record> Wait(CommandId id, std::chrono::milliseconds timeout);

  Result<Record> Get(CommandId id) const;
  Result<ListPage> List(const ListQuery& query) const;
  Result<std::vector<AuditEvent>> Audit(CommandId id) const;

  // Cancels a pending, scheduled, or retry-waiting command. kFailedPrecondition otherwise.
  Status Cancel(CommandId id);
  // Runs the handler's undo of a succeeded command in the caller's thread, then records
  // `undone`. kFailedPrecondition if not succeeded or the type has no undo.
  Status Undo(CommandId id);
  // Puts a dead command back to pending with a fresh attempt budget.
  Status Redrive(CommandId id);

  // Calls `done` once, on the thread that stored it, when command `id` reaches a terminal
  // state after this call (check the state after watching: it may be terminal already).
  // For servers that wait without a thread. Keep `done` short. Returns a ticket for Unwatch.
  uint64_t Watch(CommandId id, std::function<void()> done);
  void Unwatch(CommandId id, uint64_t ticket);

  // --- Remote workers (async and durable modes) ---
  // Leases up to ask.max ready commands of ask.types, waiting up to `wait` for the first
  // (0: answer at once, maybe empty). kInvalidArgument (field "types") for a type that is
  // not a registered remote type; kUnavailable once stopping.
  Result<std::vector<LeaseGrant>> Lease(const LeaseAsk& ask, std::chrono::milliseconds wait);
  // For servers that long-poll without a thread: calls `ready` once (any thread, keep it
  // short) as soon as a command of one of `types` may be leasable (at once if one is),
  // or when the bus stops. One offered command wakes one waiter, not all (no thundering
  // herd of empty answers): `ready` returns false when its waiter is gone, and a woken
  // waiter must call CancelLeasable once it has tried to lease, which passes the wake-up
  // on if it left a command behind. Returns a ticket for CancelLeasable.
  uint64_t OnLeasable(const std::vector<std::string>& types, std::function<bool()> ready);
  void CancelLeasable(uint64_t ticket);
  // Extends a lease by `extend` from now (0 = its own duration); returns the new deadline
  // (unix µs). kNotFound (field "lease") for an unknown or expired lease.
  Result<int64_t> Heartbeat(std::string_view token, std::chrono::milliseconds extend);
  // Records the outcomes of leased commands with one store write (durable in durable
  // mode) and returns once stored, one Status per outcome, in order: kNotFound (field
  // "lease") when the lease is unknown, expired or not this command's.
  std::vector<Status> Finish(std::vector<RemoteOutcome> outcomes);

  // The mode it runs in. In kAsync, Finish and a Lease without wait never block (nothing
  // is synced): an event loop may call them on its own thread.
  Mode mode() const;

  // Commands queued or waiting in all partitions now (async); for progress displays.
  uint64_t QueueDepth() const;
  // Per partition (async): depth and the oldest waiting command's age; for metrics.
  std::vector<PartitionStats> Partitions() const;
  // Durable mode: synced store writes made so far, and the writes they carried (submit
  // batches and completion batches): their ratio is the group-commit factor.
  uint64_t SyncedWrites() const;
  uint64_t CommittedBatches() const;

  class Impl;

 private:
  explicit Bus(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cmdq
