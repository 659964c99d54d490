// Helpers for the engine's tests: a bus on the memory store, commands, and a latch.
#pragma once

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "cmdq/bus.h"

namespace cmdq::testing {

// Test sizes shrink under sanitizers: CMDQ_TEST_SCALE=0.05 runs 5% of the work.
inline size_t Scaled(size_t n, size_t min = 1000) {
  const char* s = std::getenv("CMDQ_TEST_SCALE");
  if (!s) return n;
  const double f = std::atof(s);
  return std::max(min, static_cast<size_t>(static_cast<double>(n) * f));
}

inline std::unique_ptr<Bus> MakeBus(BusOptions options = {}, Clock* clock = SystemClock()) {
  BusDeps deps;
  deps.store = NewMemoryStore();
  deps.cache = NewLruCache(1024);
  deps.clock = clock;
  auto bus = Bus::Create(std::move(options), std::move(deps));
  EXPECT_TRUE(bus.has_value()) << bus.error().ToString();
  return std::move(*bus);
}

inline Command Cmd(std::string type, std::string key, std::string payload = "") {
  Command c;
  c.type = std::move(type);
  c.key = std::move(key);
  c.payload = std::move(payload);
  return c;
}

inline Handler Returns(std::string result) {
  return Handler{
      .execute = [result](const HandlerContext&) -> Result<std::string> { return result; }};
}

// A gate handlers can wait on until the test opens it.
class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Pass() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Polls `pred` (for up to 10 s of real time) — for effects of worker threads.
template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 10'000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

}  // namespace cmdq::testing
