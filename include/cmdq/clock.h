// Clock: the one source of time for ids, timestamps, schedules, backoff and deadlines.
//
// All times in cmdq are microseconds since the Unix epoch (int64). The system clock
// reads CLOCK_REALTIME; the manual clock is for tests, which never sleep: they advance
// it, and whoever subscribed (the Bus, to wake its timers) is told.
// Both are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace cmdq {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
  // Calls `on_advance` whenever time jumps (manual clocks only). The callback runs on
  // the thread that advances the clock and must not call back into the clock.
  virtual void Subscribe(std::function<void()> on_advance) { (void)on_advance; }
};

// The process-wide real clock. Never null; lives for the whole program.
Clock* SystemClock();

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_micros = 1'767'225'600'000'000)  // 2026-01-01
      : now_(start_micros) {}
  int64_t NowMicros() const override;
  void Subscribe(std::function<void()> on_advance) override;
  void Advance(int64_t micros);
  void Set(int64_t micros);

 private:
  void Notify();
  mutable std::mutex mu_;
  int64_t now_;
  std::vector<std::function<void()>> subscribers_;
};

}  // namespace cmdq
