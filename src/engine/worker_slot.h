// WorkerSlot: what the ticker needs to time out the attempt a worker is running: its
// deadline and a stop source. Arm/Disarm are lock-free; the stop source is replaced only
// after it fired, under a lock the ticker also takes, so a stop never hits a stale run.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stop_token>
#include <string>

namespace cmdq::engine {

class WorkerSlot {
 public:
  explicit WorkerSlot(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  // Worker: an attempt with `deadline_us` (0 = none) starts; returns its stop token.
  std::stop_token Arm(int64_t deadline_us);
  void Disarm() { deadline_us_.store(0, std::memory_order_release); }
  // Ticker: requests a stop when the armed deadline has passed.
  void FireIfLate(int64_t now_us);
  // Requests a stop whatever the deadline (the bus stops now).
  void FireNow();

 private:
  const std::string name_;
  std::atomic<int64_t> deadline_us_{0};
  std::mutex mu_;
  std::stop_source source_;
};

}  // namespace cmdq::engine
