// The data a benchmark workload draws from, generated once before the clock starts:
// incompressible payloads (random bytes) and the partition keys of the simulated users.
// Commands copy a payload from the pool, so the copy is part of building a command, as it
// is for a real client. Read-only after construction: safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cmdq::app {

// SplitMix64: a tiny, fast generator for picking keys and payloads in hot loops.
class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (with a negligible bias for small n).
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((__uint128_t{Next()} * n) >> 64); }

 private:
  uint64_t state_;
};

class PayloadPool {
 public:
  // `count` random payloads of `bytes` each; count is rounded up to a power of two.
  PayloadPool(size_t count, size_t bytes, uint64_t seed = 42);
  const std::string& At(uint64_t i) const { return payloads_[i & mask_]; }
  size_t bytes() const { return bytes_; }

 private:
  std::vector<std::string> payloads_;
  size_t bytes_;
  uint64_t mask_;
};

// "user-00000" ... : one key per simulated user.
std::vector<std::string> UserKeys(size_t users);

}  // namespace cmdq::app
