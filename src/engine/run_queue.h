// RunQueue: partitions that have work, waiting for a worker thread to claim them.
//
// A partition is in the queue (or claimed) at most once: its `scheduled` flag says so, and
// Schedule() sets it. Workers sleep here when there is nothing to do. The queue also
// knows when the whole engine is quiescent (nothing queued, no worker busy), which is what
// a draining stop waits for.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "engine/partition.h"

namespace cmdq::engine {

class RunQueue {
 public:
  // Queues `p` unless it is queued or claimed already. Any thread.
  void Schedule(Partition& p);
  // Queues a partition its holder still holds (it has more work): a worker, or a
  // producer that offered from it (AsyncEngine::Enqueue).
  void Requeue(Partition& p);
  // Blocks until a partition is ready or Close(); null once closed. Marks the caller busy.
  Partition* Claim();
  // A ready partition if there is one, without waiting; marks the caller busy with it.
  Partition* TryClaim();
  // The caller has put a claimed partition back (or released it); once it has done so
  // for every claim, it is idle again.
  void Release();
  void Close();
  // True once nothing is queued and no worker is busy, within `timeout`.
  bool WaitQuiescent(std::chrono::milliseconds timeout);

 private:
  void PushLocked(Partition& p);
  Partition* PopLocked();
  // An idle worker polls for a short while before it sleeps: under load the next
  // partition comes within microseconds, and a futex wake-up per submit would cost more
  // than the work. While one worker polls, producers need not wake anyone.
  bool Poll();

  std::atomic<size_t> size_{0};
  std::atomic<int> polling_{0};
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable quiet_cv_;
  std::deque<Partition*> queue_;
  int idle_ = 0;
  int busy_ = 0;
  bool closed_ = false;
};

}  // namespace cmdq::engine
