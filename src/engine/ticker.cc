#include "engine/ticker.h"

#include <chrono>

namespace cmdq::engine {

void Ticker::Start() {
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void Ticker::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Ticker::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Ticker::Tick() {
  const int64_t now = clock_.NowMicros();
  for (auto& p : partitions_) {
    if (p->next_due_us.load(std::memory_order_acquire) <= now) run_queue_.Schedule(*p);
  }
  for (auto& slot : slots_) slot->FireIfLate(now);
  if (on_tick_) on_tick_(now);
}

void Ticker::Loop() {
  // A 1 ms period bounds how late a timer fires; it costs ~1000 cheap wake-ups a second.
  constexpr auto kPeriod = std::chrono::milliseconds(1);
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    Tick();
    lock.lock();
    cv_.wait_for(lock, kPeriod, [this] { return stop_ || woken_; });
    woken_ = false;
  }
}

}  // namespace cmdq::engine
