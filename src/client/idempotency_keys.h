// IdempotencyKeys: the keys a Client puts on submits that have none, so that a retried
// submit is answered with the first command rather than stored twice. 128 random bits
// each ("cmdq-" + 32 hex digits): two clients never pick the same key in practice, and
// the key says who made it. Not thread-safe: one per Client.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace cmdq::client {

class IdempotencyKeys {
 public:
  IdempotencyKeys();
  std::string Next();

 private:
  std::mt19937_64 random_;
};

}  // namespace cmdq::client
