#include "core/brief_mutex.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

namespace cmdq {
namespace {

// Threads that take turns much more often than they can sleep: every increment of the
// plain counter must survive, whether a thread got the lock while trying or after it slept.
TEST(BriefMutex, KeepsOutEveryOtherThreadUnderContention) {
  BriefMutex mu;
  uint64_t counter = 0;  // guarded by mu
  constexpr int kThreads = 6;
  constexpr int kRounds = 50'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        std::lock_guard lock(mu);
        const uint64_t seen = counter;
        if (i % 64 == 0) std::this_thread::yield();  // a holder that is descheduled
        counter = seen + 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, uint64_t{kThreads} * kRounds);
}

TEST(BriefMutex, TryLockFailsWhileHeldAndSucceedsAfter) {
  BriefMutex mu;
  mu.lock();
  bool got = true;
  std::thread other([&] { got = mu.try_lock(); });
  other.join();
  EXPECT_FALSE(got);
  mu.unlock();
  std::thread again([&] {
    got = mu.try_lock();
    if (got) mu.unlock();
  });
  again.join();
  EXPECT_TRUE(got);
}

}  // namespace
}  // namespace cmdq
