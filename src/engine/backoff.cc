#include "engine/backoff.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace cmdq::engine {

int64_t BackoffMicros(const TypeOptions& options, uint32_t attempt, double unit_random) {
  const double initial = static_cast<double>(options.backoff_initial.count()) * 1000.0;
  const double cap = static_cast<double>(options.backoff_max.count()) * 1000.0;
  const double exponent = attempt > 0 ? static_cast<double>(attempt - 1) : 0.0;
  const double base = std::min(cap, initial * std::pow(options.backoff_multiplier, exponent));
  const double jittered = base * (1.0 - options.jitter * std::clamp(unit_random, 0.0, 1.0));
  return static_cast<int64_t>(jittered);
}

double UnitRandom() {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace cmdq::engine
