#include "workload_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace cmdq::app {

PayloadPool::PayloadPool(size_t count, size_t bytes, uint64_t seed)
    : payloads_(std::bit_ceil(count == 0 ? size_t{1} : count)),
      bytes_(bytes),
      mask_(payloads_.size() - 1) {
  FastRandom random(seed);
  for (std::string& payload : payloads_) {
    payload.resize(bytes);
    for (size_t at = 0; at < bytes; at += sizeof(uint64_t)) {
      const uint64_t word = random.Next();
      std::memcpy(payload.data() + at, &word, std::min(sizeof(word), bytes - at));
    }
  }
}

std::vector<std::string> UserKeys(size_t users) {
  std::vector<std::string> keys;
  keys.reserve(users);
  for (size_t i = 0; i < users; ++i) keys.push_back(fmt::format("user-{:05d}", i));
  return keys;
}

}  // namespace cmdq::app
