#include "client/idempotency_keys.h"

#include <fmt/format.h>

namespace cmdq::client {

IdempotencyKeys::IdempotencyKeys() {
  // Seeded from the OS once per Client: a generator seeded with the time would give two
  // clients started together the same keys.
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device(), device(), device()};
  random_.seed(seed);
}

std::string IdempotencyKeys::Next() {
  const uint64_t high = random_();
  const uint64_t low = random_();
  return fmt::format("cmdq-{:016x}{:016x}", high, low);
}

}  // namespace cmdq::client
