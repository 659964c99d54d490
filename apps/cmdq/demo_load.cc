#include "demo_load.h"

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "builtin_types.h"
#include "workload_data.h"

namespace cmdq::app {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Builds one command of the mix for `key`; `flaky` tells whether it will fail then succeed.
Command MakeMixedCommand(FastRandom& random, const std::string& key, bool& flaky) {
  Command command;
  command.key = key;
  const uint64_t draw = random.Below(100);
  flaky = false;
  if (draw < 70) {
    command.type = kNoopType;
  } else if (draw < 85) {
    command.type = kSleepType;
    command.payload = fmt::format("{{\"ms\": {}}}", 1 + random.Below(5));
  } else if (draw < 95) {
    command.type = kFailType;
    command.payload = fmt::format("{{\"times\": {}}}", 1 + random.Below(2));
    flaky = true;
  } else {
    command.type = kFailType;
    command.payload = R"({"times": 1000})";
  }
  command.payload_is_json = !command.payload.empty();
  return command;
}

struct Sender {
  int index;
  const LoadPlan& plan;
  const std::vector<std::string>& keys;
};

void Send(Bus& bus, const Sender& sender, TierStats& stats, std::atomic<uint64_t>& sample) {
  const LoadPlan& plan = sender.plan;
  const size_t owned = (plan.users - sender.index + plan.senders - 1) / plan.senders;
  if (owned == 0) return;
  const std::chrono::duration<double> interval(1.0 / (owned * plan.speed));
  const auto start = SteadyClock::now();
  const auto end = start + std::chrono::duration<double>(plan.seconds);
  FastRandom random(77 + sender.index);
  for (uint64_t j = 0;; ++j) {
    const auto due = start + std::chrono::duration_cast<SteadyClock::duration>(j * interval);
    if (due >= end) break;
    if (SteadyClock::now() + std::chrono::milliseconds(1) < due) std::this_thread::sleep_until(due);
    bool flaky = false;
    const size_t user = sender.index + plan.senders * (j % owned);
    stats.submitted.fetch_add(1, std::memory_order_relaxed);
    const Result<CommandId> id = bus.Submit(MakeMixedCommand(random, sender.keys[user], flaky));
    if (!id) {
      stats.submit_errors.fetch_add(1, std::memory_order_relaxed);
    } else if (flaky && sample.load(std::memory_order_relaxed) == 0) {
      uint64_t none = 0;
      sample.compare_exchange_strong(none, id->value());
    }
  }
}

}  // namespace

TypeOptions DemoTypeOptions() {
  TypeOptions options;
  options.max_attempts = 3;
  options.backoff_initial = std::chrono::milliseconds(5);
  options.backoff_max = std::chrono::milliseconds(50);
  options.timeout = std::chrono::milliseconds(1000);
  return options;
}

void RunUsers(Bus& bus, const LoadPlan& plan, TierStats& stats,
              std::atomic<uint64_t>& sample_flaky) {
  const std::vector<std::string> keys = UserKeys(plan.users);
  std::vector<std::thread> threads;
  for (int s = 0; s < plan.senders; ++s) {
    threads.emplace_back([&, s] { Send(bus, Sender{s, plan, keys}, stats, sample_flaky); });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace cmdq::app
