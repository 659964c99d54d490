// BatchRunner: what a worker does with the partitions it has claimed — take in each one's
// inbox, release due timers, run ready tasks one attempt each, and store their outcomes in
// batches (one store write for many commands, from several partitions), then tell the bus
// what was stored.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <utility>
#include <vector>

#include "cmdq/clock.h"
#include "cmdq/store.h"
#include "engine/group_commit.h"
#include "engine/key_limiter.h"
#include "engine/partition.h"
#include "engine/worker_slot.h"

namespace cmdq::engine {

// Told after the store holds a task's new state: succeeded, failed (a retry follows), dead
// or cancelled. Runs on the worker thread. `stored_ns` is the steady clock once the write
// is done, read once for all the outcomes of one write.
using StoredFn = std::function<void(const Task&, State, int64_t stored_ns)>;

class LeaseBroker;

struct RunnerEnv {
  Store& store;
  GroupCommitter* committer;  // durable mode: writes go through it; else null
  const Clock& clock;
  KeyLimiter& limiter;
  const StoredFn& on_stored;
  const std::atomic<bool>& stop_now;
  LeaseBroker* broker = nullptr;  // takes the tasks of remote types
};

// Writes `batch` (and empties it), retrying while the store reports a passing trouble (I/O, full
// disk, unavailable) and the engine is not stopping now. Returns the last status.
Status WriteWithRetry(const RunnerEnv& env, StoreBatch& batch);

class BatchRunner {
 public:
  explicit BatchRunner(RunnerEnv env) : env_(env) {}
  // Runs `p`'s ready tasks; their outcomes may wait for Flush (the caller holds `p` until
  // then). Writes on its own when the batch is full. `joined`: `p` joins outcomes of other
  // partitions already waiting; it runs only quick tasks, and stops at the first other.
  void Run(Partition& p, WorkerSlot& slot, bool joined = false);
  // Whether another partition's outcomes should join this batch before it is written.
  bool HasRoom() const;
  // Stores the waiting outcomes (one write), settles their tasks, then offers the remote
  // tasks it ran into to the lease broker.
  void Flush();

 private:
  void RunTask(Partition& p, Task* task, WorkerSlot& slot);
  bool Admitted(Partition& p, Task* task, int64_t now_us);
  void Settle(Partition& p, Task* task, State state, int64_t retry_due_us);
  size_t MaxWrites() const;
  bool MayJoin(const Partition& p) const;
  // The batch has room, and its first outcome has waited under kMaxRunTime.
  bool WithinBounds() const;

  RunnerEnv env_;
  int64_t now_us_ = 0;  // the last clock reading of this run
  StoreBatch batch_;
  struct Stored {
    Partition* partition;
    Task* task;
    State state;
    bool left;  // it left the partition (Partition::Place): deleted after the flush
  };
  std::vector<Stored> stored_;
  std::vector<Task*> offers_;                            // remote tasks, offered by the next Flush
  std::chrono::steady_clock::time_point first_waiting_;  // when stored_'s first came
};

}  // namespace cmdq::engine
