#include "engine/run_queue.h"

namespace cmdq::engine {

void RunQueue::Schedule(Partition& p) {
  if (p.scheduled.load() || p.scheduled.exchange(true)) return;
  std::lock_guard lock(mu_);
  PushLocked(p);
}

void RunQueue::Requeue(Partition& p) {
  std::lock_guard lock(mu_);
  PushLocked(p);
}

void RunQueue::PushLocked(Partition& p) {
  queue_.push_back(&p);
  if (idle_ > 0) work_cv_.notify_one();
}

Partition* RunQueue::Claim() {
  std::unique_lock lock(mu_);
  ++idle_;
  work_cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
  --idle_;
  if (closed_) return nullptr;
  Partition* p = queue_.front();
  queue_.pop_front();
  ++busy_;
  return p;
}

void RunQueue::Release() {
  std::lock_guard lock(mu_);
  --busy_;
  if (busy_ == 0 && queue_.empty()) quiet_cv_.notify_all();
}

void RunQueue::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  work_cv_.notify_all();
  quiet_cv_.notify_all();
}

bool RunQueue::WaitQuiescent(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return quiet_cv_.wait_for(lock, timeout, [this] { return busy_ == 0 && queue_.empty(); });
}

}  // namespace cmdq::engine
