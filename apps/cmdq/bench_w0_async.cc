// W0.async: producers submit 1 KB no-op commands over 10,000 keys to the async bus.
//
// Throughput counts from the first submit to the last completion (told by on_finished).
// Latency is submit->done from the Completion's steady-clock stamps; CPU per command is the
// whole process's CPU time from the first submit until the run is seen done (a poll of at
// most a few ms after the last completion). Per-key order is checked in the handler,
// which sees the key (a Completion does not): each producer owns the keys k with
// k % producers == its index, so a key's ids grow in its submit order, and a handler that
// sees a smaller id than the key's last one counts an order violation.
// The keeping floor (bench_w0_async_floor.h) runs first, on the same commands, so that the
// bus's figure can be read against what keeping its commands costs at least.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "await_done.h"
#include "bench_w0_async_floor.h"
#include "bench_workloads.h"
#include "cmdq/bus.h"
#include "cmdq/store.h"
#include "latency_histogram.h"
#include "process_io.h"
#include "progress_line.h"
#include "workload_data.h"

namespace cmdq::app {
namespace {

using SteadyClock = std::chrono::steady_clock;
// Commands queued per partition: ~32,000 over 64 partitions. The producers submit as fast
// as they can, so the bound is what they run ahead by; far more (the library's 65,536)
// lets them fill memory the workers then find cold. 256-512 ran fastest of 128..131,072.
constexpr uint32_t kW0AsyncQueueCapacity = 512;

// The counts of the threads that share a stripe. The workers count every command; one
// shared counter would move its cache line between cores each time and charge the bus
// with the load generator's bookkeeping.
struct alignas(64) TallyStripe {
  std::atomic<uint64_t> runs{0};
  std::atomic<uint64_t> done{0};
  std::atomic<int64_t> last_done_ns{0};  // steady clock of the stripe's latest completion
};

// What the handler and on_finished share; lives until the bus has stopped.
struct Tally {
  Tally(size_t users, uint64_t commands) : last_id(users), target(commands) {}

  TallyStripe& Mine() {
    static std::atomic<size_t> next{0};
    thread_local const size_t mine = next.fetch_add(1, std::memory_order_relaxed);
    return stripes[mine % stripes.size()];
  }
  uint64_t Done() const {
    uint64_t n = 0;
    for (const TallyStripe& s : stripes) n += s.done.load(std::memory_order_acquire);
    return n;
  }
  uint64_t Runs() const {
    uint64_t n = 0;
    for (const TallyStripe& s : stripes) n += s.runs.load(std::memory_order_relaxed);
    return n;
  }
  int64_t LastDoneNs() const {
    int64_t last = 0;
    for (const TallyStripe& s : stripes) {
      last = std::max(last, s.last_done_ns.load(std::memory_order_acquire));
    }
    return last;
  }

  std::vector<std::atomic<uint64_t>> last_id;  // per key
  std::array<TallyStripe, 16> stripes;
  std::atomic<uint64_t> violations{0};
  std::atomic<uint64_t> dead{0};
  const uint64_t target;
  LatencyHistogram latency;
};

size_t KeyIndex(const std::string& key) {  // "user-01234" -> 1234
  size_t index = 0;
  std::from_chars(key.data() + 5, key.data() + key.size(), index);
  return index;
}

Handler OrderCheckingNoop(Tally& tally) {
  return {.execute = [&tally](const HandlerContext& ctx) -> Result<std::string> {
            tally.Mine().runs.fetch_add(1, std::memory_order_relaxed);
            const uint64_t id = ctx.command().id.value();
            auto& last = tally.last_id[KeyIndex(ctx.command().key)];
            if (last.exchange(id, std::memory_order_relaxed) > id) {
              tally.violations.fetch_add(1, std::memory_order_relaxed);
            }
            return std::string();
          },
          .undo = {}};
}

void OnFinished(Tally& tally, const Completion& c) {
  if (c.state == State::kFailed) return;  // waiting for a retry: not done
  if (c.state == State::kDead) tally.dead.fetch_add(1, std::memory_order_relaxed);
  tally.latency.Record(c.finished_steady_ns - c.submitted_steady_ns);
  TallyStripe& mine = tally.Mine();
  // Threads that share a stripe (more than 16 workers) must not put its time back.
  int64_t last = mine.last_done_ns.load(std::memory_order_relaxed);
  while (c.finished_steady_ns > last &&
         !mine.last_done_ns.compare_exchange_weak(last, c.finished_steady_ns,
                                                  std::memory_order_relaxed)) {
  }
  mine.done.fetch_add(1, std::memory_order_release);
}

Result<std::unique_ptr<Bus>> StartAsyncBus(const BenchOptions& options, Tally& tally) {
  BusOptions bus_options;
  bus_options.mode = Mode::kAsync;
  bus_options.workers = options.workers;
  bus_options.partitions = options.partitions;
  bus_options.queue_capacity = kW0AsyncQueueCapacity;
  bus_options.backpressure = Backpressure::kBlock;
  bus_options.on_finished = [&tally](const Completion& c) { OnFinished(tally, c); };
  BusDeps deps;
  deps.store = NewMemoryStore();
  Result<std::unique_ptr<Bus>> bus = Bus::Create(std::move(bus_options), std::move(deps));
  if (!bus) return bus;
  if (Status s = (*bus)->Register(kW0AsyncType, OrderCheckingNoop(tally)); !s.ok()) return Error(s);
  if (Status s = (*bus)->Start(); !s.ok()) return Error(s);
  return bus;
}

struct ProducerPlan {
  int index;
  int producers;
  uint64_t commands;
  uint64_t submit_batch;  // 1: one Submit per command
};

// Submits plan.commands commands over the keys this producer owns; returns the errors.
uint64_t Produce(Bus& bus, const ProducerPlan& plan, const PayloadPool& payloads,
                 const std::vector<std::string>& keys) {
  FastRandom random(1000 + plan.index);
  const uint64_t owned = (keys.size() - plan.index + plan.producers - 1) / plan.producers;
  uint64_t errors = 0;
  std::vector<Command> batch;
  for (uint64_t i = 0; i < plan.commands; ++i) {
    Command command =
        W0AsyncCommand(keys[plan.index + plan.producers * random.Below(owned)], payloads.At(i));
    if (plan.submit_batch == 1) {
      if (!bus.Submit(std::move(command))) ++errors;
      continue;
    }
    batch.push_back(std::move(command));
    if (batch.size() < plan.submit_batch && i + 1 < plan.commands) continue;
    for (const Result<CommandId>& r : bus.SubmitBatch(std::move(batch))) errors += r ? 0 : 1;
    batch.clear();  // a moved-from vector is valid but unspecified
    batch.reserve(plan.submit_batch);
  }
  return errors;
}

// Waits until every command is done, or no progress for `stall`; false on a stall.
bool AwaitDone(const Tally& tally, std::chrono::seconds stall) {
  return app::AwaitDone([&] { return tally.Done(); },
                        [&] { return static_cast<uint64_t>(tally.target); }, stall,
                        std::chrono::milliseconds(2));
}

struct RunOutcome {
  double seconds = 0;
  double cpu_seconds = 0;  // the whole process's, load generator included
  uint64_t submit_errors = 0;
};

struct Inputs {
  const PayloadPool& payloads;
  const std::vector<std::string>& keys;
};

Result<RunOutcome> Drive(Bus& bus, const BenchOptions& options, const Inputs& in, int producers,
                         Tally& tally) {
  const PayloadPool& payloads = in.payloads;
  const std::vector<std::string>& keys = in.keys;
  std::vector<uint64_t> errors(producers, 0);
  std::vector<std::thread> threads;
  const double cpu_start = ProcessCpuSeconds();
  const auto start = SteadyClock::now();
  for (int p = 0; p < producers; ++p) {
    const uint64_t share = tally.target / producers + (p == 0 ? tally.target % producers : 0);
    threads.emplace_back([&, p, share] {
      errors[p] = Produce(bus, {p, producers, share, options.submit_batch}, payloads, keys);
    });
  }
  for (std::thread& t : threads) t.join();
  RunOutcome outcome;
  for (uint64_t e : errors) outcome.submit_errors += e;
  if (outcome.submit_errors == 0 && !AwaitDone(tally, std::chrono::seconds(30))) {
    return Error(Status::DeadlineExceeded(
        fmt::format("no completion for 30 s; {} of {} done", tally.Done(), tally.target)));
  }
  const int64_t end_ns = outcome.submit_errors == 0 ? tally.LastDoneNs()
                                                    : SteadyClock::now().time_since_epoch().count();
  outcome.seconds = (end_ns - start.time_since_epoch().count()) / 1e9;
  outcome.cpu_seconds = ProcessCpuSeconds() - cpu_start;
  return outcome;
}

BenchResult MakeResult(const BenchOptions& options, int producers, const Tally& tally,
                       const RunOutcome& outcome, double floor_per_s) {
  BenchResult result{.workload = "W0.async", .mode = "async"};
  result.commands = tally.target;
  result.seconds = outcome.seconds;
  result.throughput_per_s = tally.Done() / outcome.seconds;
  result.latency_us = LatencyFrom(tally.latency.Snapshot());
  const uint32_t cores = std::thread::hardware_concurrency();
  result.params.Add("producers", int64_t{producers});
  result.params.Add("workers", int64_t{options.workers ? options.workers : cores});
  result.params.Add("partitions", int64_t{options.partitions});
  result.params.Add("queue_capacity", int64_t{kW0AsyncQueueCapacity});
  result.params.Add("submit_batch", static_cast<int64_t>(options.submit_batch));
  result.params.Add("payload_bytes", static_cast<int64_t>(options.payload_bytes));
  result.params.Add("users", static_cast<int64_t>(options.users));
  result.extra.Add("order_violations", static_cast<int64_t>(tally.violations.load()));
  result.extra.Add("lost", static_cast<int64_t>(tally.target - tally.Done()));
  result.extra.Add("handler_runs", static_cast<int64_t>(tally.Runs()));
  result.extra.Add("dead", static_cast<int64_t>(tally.dead.load()));
  result.extra.Add("submit_errors", static_cast<int64_t>(outcome.submit_errors));
  result.extra.Add("keeping_floor_per_s", floor_per_s);
  result.extra.Add("keeping_floor_ratio", result.throughput_per_s / floor_per_s);
  // Against the budget a throughput leaves (2 M/s on 2 cores: 1 µs per command); the
  // workers' short polls count too. (The floor's threads spin whenever they wait, so
  // its CPU time is its wall time on both cores and tells nothing more.)
  result.extra.Add("cpu_us_per_command", outcome.cpu_seconds * 1e6 / double(tally.target));
  FillMachine(result);
  return result;
}

}  // namespace

Result<BenchResult> RunW0Async(const BenchOptions& options, int producers) {
  const uint64_t commands = options.commands ? options.commands : kW0AsyncDefaultCommands;
  const PayloadPool payloads(1024, options.payload_bytes);
  const std::vector<std::string> keys = UserKeys(options.users);
  const double floor_per_s =
      W0AsyncKeepingFloor(payloads, keys, commands, MemoryStoreOptions{}.max_terminal_records,
                          size_t{kW0AsyncQueueCapacity} * options.partitions);
  auto tally = std::make_unique<Tally>(options.users, commands);
  Result<std::unique_ptr<Bus>> bus = StartAsyncBus(options, *tally);
  if (!bus) return Error(bus.error());
  const auto start = SteadyClock::now();
  ProgressLine progress([&] {
    const uint64_t done = tally->Done();
    const double s = std::chrono::duration<double>(SteadyClock::now() - start).count();
    return fmt::format("W0.async {} producer(s) {} {:.2f} M/s", producers,
                       RenderBar(double(done) / commands), done / s / 1e6);
  });
  if (!options.json) progress.Start();
  Result<RunOutcome> outcome = Drive(**bus, options, {payloads, keys}, producers, *tally);
  if (!options.json) progress.Stop();
  (*bus)->Stop(StopMode::kNow);
  bus->reset();
  if (!outcome) return Error(outcome.error());
  return MakeResult(options, producers, *tally, *outcome, floor_per_s);
}

}  // namespace cmdq::app
