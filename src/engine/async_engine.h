// AsyncEngine: the partitions, worker threads and ticker of the async mode.
//
// Producers hand it tasks (Enqueue); a partition with work is claimed by one idle worker
// at a time, which runs a batch of it and puts it back. Requests that touch a queued task
// (cancel, re-drive) run on the partition's owner, so they never race a run.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "cmdq/bus.h"
#include "cmdq/clock.h"
#include "cmdq/store.h"
#include "engine/batch_runner.h"
#include "engine/group_commit.h"
#include "engine/key_limiter.h"
#include "engine/lease_broker.h"
#include "engine/partition.h"
#include "engine/run_queue.h"
#include "engine/ticker.h"
#include "engine/worker_slot.h"

namespace cmdq::engine {

class AsyncEngine {
 public:
  // `committer` (durable mode) carries the workers' writes; null: they write directly.
  AsyncEngine(uint32_t partitions, uint32_t workers, Store& store, GroupCommitter* committer,
              const Clock& clock, StoredFn on_stored, LeaseBroker::ExpiredFn on_lease_expired = {},
              std::chrono::milliseconds lease_drain_wait = std::chrono::seconds(10),
              LeaseBroker::LeasedFn on_leased = {});
  ~AsyncEngine();

  void Start();
  // Stops the workers and the ticker (after draining, or now); everything still held is
  // returned in the report's `left` and forgotten. Leasing stops first; leased commands
  // get up to `lease_drain_wait` to be finished (when draining).
  StopReport Stop(StopMode mode);
  // Ids of tasks that arrived after Stop (a submit that raced it); forgets them.
  std::vector<CommandId> TakeLeft();

  // The partition a command belongs to: by key for ordered types (per-key FIFO), by id
  // for unordered ones (spread over all workers).
  uint32_t PartitionOf(const Command& command, bool ordered) const;
  Partition& partition(uint32_t index) { return *partitions_[index]; }

  // Makes room for one task in `p` (the caller then Enqueues it): waits while full when
  // `block`, else fails with kResourceExhausted. On this engine's own workers (a handler
  // submitting) it always makes room: waiting there could wait forever.
  Status Reserve(Partition& p, uint32_t capacity, bool block);
  // From now on Reserve never waits for room: producers waiting are woken and told the
  // bus is stopping (kUnavailable). Stop calls it; so does the bus, before a draining
  // stop waits for the submits in flight, which could otherwise wait on it forever.
  void RefuseWaits();
  // Takes ownership of the tasks, whose room was reserved. Any thread; it never runs a
  // handler, so event loops may call it.
  void Enqueue(std::span<Task* const> tasks);
  void Enqueue(Task* task) { Enqueue(std::span<Task* const>(&task, 1)); }
  // Runs `fn` on the owner of the partition and returns its status; kUnavailable once
  // stopped.
  Status RunOnOwner(uint32_t partition, std::function<Status()> fn);

  uint64_t Depth() const;
  std::vector<PartitionStats> Stats() const;
  LeaseBroker& broker() { return broker_; }
  void WakeTicker() { ticker_.Wake(); }

 private:
  void WorkerLoop(size_t index);
  // Sees to what was just put in the inboxes of `remote` (partitions given a remote
  // type's task; repeats allowed; reordered). When a partition is idle, the caller
  // handles it itself (OfferReadyHeads), once for all its new tasks: a worker's wake-up
  // costs two context switches and, on a busy machine, milliseconds before the remote
  // worker hears of the task (1.6% of W1.10k's commands went that way, p50 1 ms).
  void HandleRemote(std::span<Partition*> remote);
  // The caller holds `p` (its `scheduled` flag): offers the ready heads of remote types to
  // the broker, then lets go, or hands `p` to a worker if in-process work is ready.
  void OfferReadyHeads(Partition& p);
  // Waits until no thread holds a partition through Handle (Stop, once running_ fell).
  void WaitInlineOwners();

  Store& store_;
  GroupCommitter* committer_;
  const Clock& clock_;
  const StoredFn on_stored_;
  std::vector<std::unique_ptr<Partition>> partitions_;
  std::vector<std::unique_ptr<WorkerSlot>> slots_;
  RunQueue run_queue_;
  KeyLimiter limiter_;
  std::atomic<bool> stop_now_{false};
  const std::chrono::milliseconds lease_drain_wait_;
  LeaseBroker broker_;
  Ticker ticker_;
  std::atomic<bool> running_{false};
  std::atomic<bool> waits_refused_{false};  // see RefuseWaits
  // Threads inside Handle: producers and finishing threads that may own a partition.
  std::atomic<int> inline_owners_{0};
  std::vector<std::thread> threads_;
};

}  // namespace cmdq::engine
