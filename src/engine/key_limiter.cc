#include "engine/key_limiter.h"

namespace cmdq::engine {

bool KeyLimiter::TryAcquire(std::string_view key, uint32_t limit) {
  std::lock_guard lock(mu_);
  uint32_t& n = running_[std::string(key)];
  if (n >= limit) return false;
  ++n;
  return true;
}

void KeyLimiter::Release(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = running_.find(std::string(key));
  if (it == running_.end()) return;
  if (--it->second == 0) running_.erase(it);
}

}  // namespace cmdq::engine
