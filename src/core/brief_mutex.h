// BriefMutex: a mutex for critical sections of a few microseconds that several threads
// share (the memory store's shards). It tries for a short while before it sleeps: on
// this kind of machine a futex sleep and its wake-up cost two context switches (several
// microseconds each), longer than the section it waits for.
// Meets the Lockable requirements, so std::lock_guard and std::unique_lock take it.
#pragma once

#include <mutex>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace cmdq {

class BriefMutex {
 public:
  void lock() {
    for (int i = 0; i < kTries; ++i) {
      if (mu_.try_lock()) return;
      Pause();
    }
    mu_.lock();
  }
  bool try_lock() { return mu_.try_lock(); }
  void unlock() { mu_.unlock(); }

 private:
  // ~2 µs of pauses here: about what a memory store write of one command holds a shard.
  static constexpr int kTries = 64;

  static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  }

  std::mutex mu_;
};

}  // namespace cmdq
