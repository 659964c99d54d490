#include "engine/worker_slot.h"

namespace cmdq::engine {

std::stop_token WorkerSlot::Arm(int64_t deadline_us) {
  if (source_.stop_requested()) {
    std::lock_guard lock(mu_);
    source_ = std::stop_source();
  }
  deadline_us_.store(deadline_us, std::memory_order_release);
  return source_.get_token();
}

void WorkerSlot::FireIfLate(int64_t now_us) {
  const int64_t d = deadline_us_.load(std::memory_order_acquire);
  if (d == 0 || d > now_us) return;
  std::lock_guard lock(mu_);
  if (deadline_us_.load(std::memory_order_acquire) == d) source_.request_stop();
}

void WorkerSlot::FireNow() {
  std::lock_guard lock(mu_);
  source_.request_stop();
}

}  // namespace cmdq::engine
