#include "engine/run_queue.h"

#include <thread>

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
  size_.store(queue_.size(), std::memory_order_release);
  // A polling worker will take one partition; wake a sleeper for anything beyond that.
  const auto polling = static_cast<size_t>(polling_.load(std::memory_order_acquire));
  if (idle_ > 0 && queue_.size() > polling) work_cv_.notify_one();
}

Partition* RunQueue::PopLocked() {
  Partition* p = queue_.front();
  queue_.pop_front();
  size_.store(queue_.size(), std::memory_order_release);
  ++busy_;
  return p;
}

bool RunQueue::Poll() {
  constexpr auto kPollFor = std::chrono::microseconds(50);
  polling_.fetch_add(1, std::memory_order_acq_rel);
  const auto until = std::chrono::steady_clock::now() + kPollFor;
  bool found = false;
  while (!found && std::chrono::steady_clock::now() < until) {
    found = size_.load(std::memory_order_acquire) > 0;
    if (!found) std::this_thread::yield();  // two cores: let a producer run meanwhile
  }
  polling_.fetch_sub(1, std::memory_order_acq_rel);
  return found;
}

Partition* RunQueue::Claim() {
  {
    std::unique_lock lock(mu_);
    if (!queue_.empty() && !closed_) return PopLocked();
  }
  Poll();
  std::unique_lock lock(mu_);
  ++idle_;
  work_cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
  --idle_;
  if (closed_) return nullptr;
  return PopLocked();
}

Partition* RunQueue::TryClaim() {
  if (size_.load(std::memory_order_acquire) == 0) return nullptr;
  std::lock_guard lock(mu_);
  if (queue_.empty() || closed_) return nullptr;
  return PopLocked();
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
