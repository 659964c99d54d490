// KeyLimiter: at most N commands of one key at once, for unordered types whose commands
// of one key may run on several workers. Thread-safe; costs a lock only for such types.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cmdq::engine {

class KeyLimiter {
 public:
  bool TryAcquire(std::string_view key, uint32_t limit);
  void Release(std::string_view key);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, uint32_t> running_;
};

}  // namespace cmdq::engine
