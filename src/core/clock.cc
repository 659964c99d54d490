#include "cmdq/clock.h"

#include <time.h>

namespace cmdq {
namespace {

class RealClock final : public Clock {
 public:
  int64_t NowMicros() const override {
    // CLOCK_REALTIME, not steady: ids and stored timestamps must mean wall time across
    // processes and restarts.
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1'000;
  }
};

}  // namespace

Clock* SystemClock() {
  // Never destroyed, so that threads still running at exit can read it.
  static RealClock* const clock = new RealClock();
  return clock;
}

int64_t ManualClock::NowMicros() const {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

void ManualClock::Subscribe(std::function<void()> on_advance) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.push_back(std::move(on_advance));
}

void ManualClock::Advance(int64_t micros) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += micros;
  }
  Notify();
}

void ManualClock::Set(int64_t micros) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = micros;
  }
  Notify();
}

void ManualClock::Notify() {
  // Subscribers run outside the lock: a subscriber that wakes a timer thread, which then
  // reads the time, must not deadlock against us.
  std::vector<std::function<void()>> subscribers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    subscribers = subscribers_;
  }
  for (const auto& notify : subscribers) {
    notify();
  }
}

}  // namespace cmdq
