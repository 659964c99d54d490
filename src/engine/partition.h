// Partition: the queues of the keys that hash to it, its timers, and its inbox.
//
// The inbox is thread-safe: producers and control requests append to it. Everything else
// belongs to the one worker that has claimed the partition (WorkerPool guarantees a
// single owner at a time), so per-key order needs no locks. Keys never wait for one
// another: a key whose head waits for a retry is simply not in the ready queue.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/flat_id_map.h"
#include "core/partitioner.h"
#include "engine/task.h"

namespace cmdq::engine {

// A request for the owner of a partition (cancel, re-drive), answered on its thread.
struct Control {
  std::function<void()> run;
};

class Partition {
 public:
  // `key_hash`: how keys are hashed to find their queues (XXH3); tests pass a poor one to
  // make keys collide.
  using KeyHashFn = uint64_t (*)(std::string_view key);
  explicit Partition(uint32_t index, KeyHashFn key_hash = &KeyHash)
      : index_(index), key_hash_(key_hash) {}
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;
  ~Partition();

  uint32_t index() const { return index_; }

  // --- any thread ---
  void PushTask(Task* task);
  void PushControl(Control control);
  // A task whose outcome a remote worker's run stored (LeaseBroker): its owner settles it
  // as the batch runner settles an in-process run; `due_us` is its retry time if failed.
  void PushSettled(Task* task, State state, int64_t due_us);
  // One task less in `depth`: producers blocked on a full partition may go on.
  void ReleaseOne();
  bool InboxEmpty();
  // Claimed by a worker or queued to be; see WorkerPool.
  std::atomic<bool> scheduled{false};
  // Tasks accepted and not yet finished: what backpressure bounds.
  std::atomic<uint32_t> depth{0};
  // Set in `depth` once the engine refuses to wait for room (AsyncEngine::RefuseWaits):
  // no decrement can take it off, so no producer can go to sleep on the depth it read
  // before. Readers of the count mask it off (Queued).
  static constexpr uint32_t kWaitsRefused = uint32_t{1} << 31;
  uint32_t Queued() const { return depth.load(std::memory_order_relaxed) & ~kWaitsRefused; }
  // Producers waiting for room (Backpressure::kBlock); finishing tasks wake them.
  std::atomic<uint32_t> blocked_producers{0};
  // Unix µs of the earliest timer, or INT64_MAX: read by the ticker.
  std::atomic<int64_t> next_due_us{INT64_MAX};
  // Steady-clock ns at submit of the oldest runnable task waiting (0 = none), as the
  // owner saw it last (PublishOldest): for metrics.
  std::atomic<int64_t> oldest_ready_ns{0};

  // --- owner only ---
  // Moves the inbox in: tasks are admitted (timers for future ones), controls run. With
  // `run_controls` false they stay in the inbox (it stays non-empty) for the next owner.
  void DrainInbox(int64_t now_us, bool run_controls = true);
  // Takes a task in on the owner's thread (re-drive): queued, or a timer if not yet due.
  void Admit(Task* task, int64_t now_us);
  // Makes tasks whose time has come runnable.
  void ReleaseDue(int64_t now_us);
  Task* PopReady();
  Task* PeekReady() const { return ready_.empty() ? nullptr : ready_.front(); }
  void PublishOldest();
  bool HasReady() const { return !ready_.empty(); }
  // Work to do now: ready tasks, an inbox to drain, or a timer that is due. Owner only.
  bool HasWork(int64_t now_us) { return HasReady() || HasIncoming(now_us); }
  // Work that arrived from outside (the inbox) or came due: any thread, for the check
  // after the owner let go (the ready queue belongs to whoever owns it next).
  bool HasIncoming(int64_t now_us) {
    return !InboxEmpty() || next_due_us.load(std::memory_order_acquire) <= now_us;
  }

  // The outcomes of a popped task. Finish: it reached a final state (succeeded, dead,
  // cancelled) and leaves its key; the caller deletes it. WaitRetry: it failed and runs
  // again at `due_us`, holding back its key. Park: it went dead and holds its key until
  // re-driven. Defer: it could not start now (a concurrency limit); try again at `due_us`.
  void Finish(Task* task);
  void WaitRetry(Task* task, int64_t due_us);
  void Park(Task* task);
  void Defer(Task* task, int64_t due_us);
  // Puts a task whose attempt ended in `state` where that state belongs: failed → its
  // retry timer at `retry_due_us`; dead with park_key_on_dead → parks its key; any other
  // → Finish. True when it left the partition: the caller releases its depth (ReleaseOne)
  // and deletes it, once the bus has been told. Shared by in-process and remote runs.
  bool Place(Task* task, State state, int64_t retry_due_us);

  // Takes a waiting task (pending, scheduled or failed) out of the partition so that it
  // can be cancelled; null if it is not here (running, finished, or never here).
  Task* Remove(CommandId id, std::string_view key, bool ordered);
  // A head the lease broker gave back (withdrawn before any lease): its key moves on.
  void ForgetWithdrawn(Task* task);
  // Makes the parked head of `key` runnable again (re-drive); null if it is not parked.
  Task* Unpark(CommandId id, std::string_view key);
  // Every task still held, for the stop report; the partition forgets them.
  std::vector<Task*> TakeAll();

 private:
  struct TimerEntry {
    int64_t due_us;
    Task* task;
    bool operator>(const TimerEntry& o) const { return due_us > o.due_us; }
  };

  void Enqueue(Task* task);
  void AddTimer(Task* task, int64_t due_us);
  void PublishNextDue();
  void AdvanceKey(KeyQueue* kq);
  bool EraseFromReady(Task* task);
  bool EraseFromTimers(Task* task);
  KeyQueue* FindKey(std::string_view key);
  // The queue of `key`, made if it has none.
  KeyQueue* KeyQueueFor(std::string_view key);
  uint64_t KeyId(std::string_view key) const;
  void SweepIdleKeys();

  // A key whose queue empties keeps its entry (no allocation per command for keys that
  // come back); idle entries are swept once there are this many.
  static constexpr size_t kMaxIdleKeys = 4096;
  size_t idle_keys_ = 0;

  const uint32_t index_;
  const KeyHashFn key_hash_;

  std::mutex inbox_mu_;
  std::vector<Task*> inbox_tasks_;
  std::vector<Control> inbox_controls_;
  struct SettledTask {
    Task* task;
    State state;
    int64_t due_us;
  };
  std::vector<SettledTask> inbox_settled_;
  std::vector<SettledTask> settled_;  // owner's scratch
  std::atomic<bool> inbox_nonempty_{false};

  std::vector<Task*> drained_;  // owner's scratch, keeps its capacity
  std::deque<Task*> ready_;
  std::vector<TimerEntry> timers_;  // min-heap on due_us
  // Each key's queue, found by the key's 64-bit hash (XXH3, as the partitioner computes)
  // in a flat array: one probe, no node to chase. Keys whose hashes are equal share a
  // slot and are told apart by comparing the key along the slot's chain (`same_hash`),
  // so no key, however crafted, can share another's queue. The queues are allocated one
  // by one, so that tasks may point at theirs.
  FlatIdMap<KeyQueue*> keys_;
};

}  // namespace cmdq::engine
