// W0.sync: the cost of the sync dispatcher over the work no dispatcher can avoid.
//
// Both paths build the same command (type, a key of 10,000 users, a 1 KB payload copied
// from a pool) and run the same no-op handler: the baseline calls the handler's execute
// itself, the bus path calls Bus::Submit in kSync mode (validate, id, store, run, record).
// Rounds alternate baseline and bus so that drift of the machine hits both; each bus
// round gets a fresh bus so that rounds are alike. Medians of the rounds are reported.
// A third path, the keeping floor, is the baseline that also keeps each command for as
// long as the memory store does by default: what any dispatcher that can answer Get for
// its recent commands pays at least, so that the bus's figure can be read against it.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "bench_workloads.h"
#include "builtin_types.h"
#include "cmdq/bus.h"
#include "cmdq/store.h"
#include "progress_line.h"
#include "workload_data.h"

namespace cmdq::app {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Inputs {
  const PayloadPool& payloads;
  const std::vector<std::string>& keys;
  uint64_t commands;
};

Command MakeCommand(const Inputs& in, FastRandom& random, uint64_t i) {
  Command command;
  command.type = kNoopType;
  command.key = in.keys[random.Below(in.keys.size())];
  command.payload = in.payloads.At(i);
  return command;
}

double Seconds(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Seconds for `commands` direct calls of the handler; counts failures into `errors`.
double TimeBaseline(const Inputs& in, const Handler& handler, uint64_t& errors) {
  FastRandom random(7);
  const auto start = SteadyClock::now();
  for (uint64_t i = 0; i < in.commands; ++i) {
    const Command command = MakeCommand(in, random, i);
    const HandlerContext context(command, 1, 0, std::stop_token(), SystemClock());
    if (!handler.execute(context)) ++errors;
  }
  return Seconds(start);
}

// Seconds for `commands` direct calls that also keep each command in a ring as long as
// the memory store keeps records by default, the oldest let go as each new one comes in.
// The ring is filled first, untimed, as TimeBus fills its bus.
double TimeKeepingFloor(const Inputs& in, const Handler& handler, uint64_t& errors) {
  const size_t kept = MemoryStoreOptions{}.max_terminal_records;
  std::vector<std::shared_ptr<const Command>> ring(kept);
  FastRandom random(7);
  for (size_t i = 0; i < kept; ++i)
    ring[i] = std::make_shared<const Command>(MakeCommand(in, random, i));
  const auto start = SteadyClock::now();
  for (uint64_t i = 0; i < in.commands; ++i) {
    auto command = std::make_shared<const Command>(MakeCommand(in, random, i));
    const HandlerContext context(*command, 1, 0, std::stop_token(), SystemClock());
    if (!handler.execute(context)) ++errors;
    ring[i % kept] = std::move(command);
  }
  return Seconds(start);
}

Result<std::unique_ptr<Bus>> StartSyncBus() {
  BusOptions options;
  options.mode = Mode::kSync;
  BusDeps deps;
  deps.store = NewMemoryStore();
  Result<std::unique_ptr<Bus>> bus = Bus::Create(std::move(options), std::move(deps));
  if (!bus) return bus;
  if (Status s = RegisterBuiltinTypes(**bus); !s.ok()) return Error(s);
  if (Status s = (*bus)->Start(); !s.ok()) return Error(s);
  return bus;
}

// Seconds for `commands` submits to a fresh sync bus in its steady state. Creation and a
// fill of the store to its retention are not timed: a bus that has run a while recycles
// the memory of the records it forgets, while a fresh one first page-faults ~1.5 KB per
// command in (a third of a 300,000-command round's time).
Result<double> TimeBus(const Inputs& in, uint64_t& errors) {
  Result<std::unique_ptr<Bus>> bus = StartSyncBus();
  if (!bus) return Error(bus.error());
  FastRandom random(7);
  for (uint64_t i = 0; i < MemoryStoreOptions{}.max_terminal_records; ++i) {
    if (!(*bus)->Submit(MakeCommand(in, random, i))) ++errors;
  }
  const auto start = SteadyClock::now();
  for (uint64_t i = 0; i < in.commands; ++i) {
    if (!(*bus)->Submit(MakeCommand(in, random, i))) ++errors;
  }
  const double seconds = Seconds(start);
  (*bus)->Stop(StopMode::kNow);
  return seconds;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct Rounds {
  std::vector<double> baseline_seconds;
  std::vector<double> bus_seconds;
  std::vector<double> floor_seconds;
  uint64_t errors = 0;
};

Result<Rounds> RunRounds(const Inputs& in, int rounds, bool show_progress) {
  const Handler handler = NoopHandler();
  Rounds out;
  int done = 0;
  ProgressLine progress([&] {
    return fmt::format("W0.sync {} round {}/{}", RenderBar(double(done) / rounds), done, rounds);
  });
  if (show_progress) progress.Start();
  for (; done < rounds; ++done) {
    out.baseline_seconds.push_back(TimeBaseline(in, handler, out.errors));
    out.floor_seconds.push_back(TimeKeepingFloor(in, handler, out.errors));
    Result<double> bus = TimeBus(in, out.errors);
    if (!bus) return Error(bus.error());
    out.bus_seconds.push_back(*bus);
  }
  if (show_progress) progress.Stop();
  return out;
}

}  // namespace

Result<BenchResult> RunW0Sync(const BenchOptions& options) {
  const PayloadPool payloads(1024, options.payload_bytes);
  const std::vector<std::string> keys = UserKeys(options.users);
  const uint64_t commands = options.commands ? options.commands : kW0SyncDefaultCommands;
  // A short warm-up of both paths: page in the code, the allocator's arenas and the store.
  Result<Rounds> warmup =
      RunRounds({payloads, keys, std::min<uint64_t>(commands, 20'000)}, 1, false);
  if (!warmup) return Error(warmup.error());
  Result<Rounds> rounds = RunRounds({payloads, keys, commands}, options.rounds, !options.json);
  if (!rounds) return Error(rounds.error());

  const double bus_s = Median(rounds->bus_seconds);
  const double base_s = Median(rounds->baseline_seconds);
  const double floor_s = Median(rounds->floor_seconds);
  const auto [min_s, max_s] =
      std::minmax_element(rounds->bus_seconds.begin(), rounds->bus_seconds.end());
  BenchResult result{.workload = "W0.sync", .mode = "sync"};
  result.commands = commands;
  result.seconds = bus_s;
  result.throughput_per_s = commands / bus_s;
  result.params.Add("producers", int64_t{1});
  result.params.Add("payload_bytes", static_cast<int64_t>(options.payload_bytes));
  result.params.Add("users", static_cast<int64_t>(options.users));
  result.params.Add("rounds", int64_t{options.rounds});
  result.extra.Add("ns_per_command", bus_s * 1e9 / commands);
  result.extra.Add("baseline_ns_per_call", base_s * 1e9 / commands);
  result.extra.Add("ratio", bus_s / base_s);
  result.extra.Add("keeping_floor_ns_per_call", floor_s * 1e9 / commands);
  result.extra.Add("keeping_floor_ratio", floor_s / base_s);
  result.extra.Add("ns_per_command_min", *min_s * 1e9 / commands);
  result.extra.Add("ns_per_command_max", *max_s * 1e9 / commands);
  result.extra.Add("submit_errors", static_cast<int64_t>(rounds->errors));
  FillMachine(result);
  return result;
}

}  // namespace cmdq::app
