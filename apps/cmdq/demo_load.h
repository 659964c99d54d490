// The simulated users of `cmdq demo`: each user sends one command per simulated second
// (open loop; `speed` compresses time), drawn from a mix of the built-in types:
//   70% fast     cmdq.noop
//   15% slow     cmdq.sleep {"ms": 1..5}
//   10% flaky    cmdq.fail {"times": 1..2}  (fails, is retried, then succeeds)
//    5% broken   cmdq.fail {"times": 1000}  (fails every attempt, goes dead)
// Users are spread over `senders` threads; a user always sends from the same thread, so
// its commands are submitted in order.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "cmdq/bus.h"
#include "cmdq/handler.h"
#include "demo_stats.h"

namespace cmdq::app {

struct LoadPlan {
  size_t users = 1000;
  double speed = 10;    // simulated seconds per real second
  double seconds = 10;  // real seconds to send for
  int senders = 2;      // threads; sync mode needs many, as each waits for its handler
};

// The policy the demo registers the built-in types with: few attempts and a short
// backoff, so that retries and dead commands show within seconds.
TypeOptions DemoTypeOptions();

// Sends for plan.seconds, then returns. `sample_flaky` receives the id of one flaky
// command (for showing its audit trail afterwards).
void RunUsers(Bus& bus, const LoadPlan& plan, TierStats& stats,
              std::atomic<uint64_t>& sample_flaky);

}  // namespace cmdq::app
