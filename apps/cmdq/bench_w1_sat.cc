// W1.sat in-process: the command round trip at saturation (WORKLOADS.md W1).
//
// 2 producer threads submit 1 KB incompressible commands over 10,000 keys with
// SubmitBatch, keeping at most --in-flight commands submitted but not done (a producer
// waits for room: the load is closed-loop, so latency measures the system, not a backlog
// the generator piled up); 2 workers run a no-op handler. The run ends after --commands
// (200,000) or --seconds (20) of submitting, when every acknowledged command is done.
// Done = on_finished: the outcome is stored (durable mode: synced to disk, D1).
//
// Throughput counts from the first submit to the last completion. Latency is
// submit->done from the Completion's steady-clock stamps. Durable mode also reports the
// store's synced writes (fsyncs), commands per fsync, and bytes the process wrote to disk
// per command (/proc/self/io, which includes RocksDB's background flushes).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "await_done.h"
#include "bench_workloads.h"
#include "closed_loop.h"
#include "cmdq/bus.h"
#include "cmdq/rocksdb_store.h"
#include "latency_histogram.h"
#include "process_io.h"
#include "progress_line.h"
#include "scratch_dir.h"
#include "workload_data.h"

namespace cmdq::app {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr char kType[] = "bench.noop";
constexpr int kProducers = 2;
constexpr uint32_t kWorkers = 2;

// What producers, on_finished and the reporter share; lives until the bus has stopped.
struct Tally {
  std::atomic<uint64_t> claimed{0};       // commands producers have taken from the budget
  std::atomic<uint64_t> acknowledged{0};  // submits that returned an id
  std::atomic<uint64_t> submit_errors{0};
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> dead{0};
  std::atomic<int64_t> last_done_ns{0};
  LatencyHistogram latency;
};

void OnFinished(Tally& tally, const Completion& c) {
  if (c.state == State::kFailed) return;  // waiting for a retry: not done
  if (c.state == State::kDead) tally.dead.fetch_add(1, std::memory_order_relaxed);
  tally.latency.Record(c.finished_steady_ns - c.submitted_steady_ns);
  int64_t last = tally.last_done_ns.load(std::memory_order_relaxed);
  while (last < c.finished_steady_ns &&
         !tally.last_done_ns.compare_exchange_weak(last, c.finished_steady_ns)) {
  }
  tally.done.fetch_add(1, std::memory_order_release);
}

Handler Noop() {
  return {.execute = [](const HandlerContext&) -> Result<std::string> { return std::string(); },
          .undo = {}};
}

Result<std::unique_ptr<Store>> OpenStore(const BenchOptions& options, const ScratchDir* dir) {
  if (options.mode != "durable") return NewMemoryStore();
  RocksDbStoreOptions store_options;
  store_options.path = dir->store_path();
  store_options.index_key_and_type = options.store_index;
  return OpenRocksDbStore(std::move(store_options));
}

Result<std::unique_ptr<Bus>> StartBus(const BenchOptions& options, std::unique_ptr<Store> store,
                                      Tally& tally) {
  BusOptions bus_options;
  bus_options.mode = options.mode == "durable" ? Mode::kDurable : Mode::kAsync;
  bus_options.workers = kWorkers;
  bus_options.partitions = options.partitions;
  bus_options.backpressure = Backpressure::kBlock;
  bus_options.on_finished = [&tally](const Completion& c) { OnFinished(tally, c); };
  BusDeps deps;
  deps.store = std::move(store);
  Result<std::unique_ptr<Bus>> bus = Bus::Create(std::move(bus_options), std::move(deps));
  if (!bus) return bus;
  if (Status s = (*bus)->Register(kType, Noop()); !s.ok()) return Error(s);
  if (Status s = (*bus)->Start(); !s.ok()) return Error(s);
  return bus;
}

using Plan = ClosedLoop;

void Produce(Bus& bus, const Plan& plan, int index, const PayloadPool& payloads,
             const std::vector<std::string>& keys, Tally& tally) {
  FastRandom random(2000 + index);
  uint64_t sequence = static_cast<uint64_t>(index) << 32;
  for (uint64_t n; (n = plan.Claim(tally.claimed)) != 0;) {
    plan.AwaitRoom(tally.acknowledged, tally.done, n);
    std::vector<Command> batch(n);
    for (Command& c : batch) {
      c.type = kType;
      c.key = keys[random.Below(keys.size())];
      c.payload = payloads.At(sequence++);
    }
    uint64_t ok = 0;
    for (const Result<CommandId>& r : bus.SubmitBatch(std::move(batch))) ok += r.has_value();
    tally.acknowledged.fetch_add(ok, std::memory_order_release);
    tally.submit_errors.fetch_add(n - ok, std::memory_order_relaxed);
  }
}

// Waits until every acknowledged command is done, or no progress for `stall`.
bool AwaitDone(const Tally& tally, std::chrono::seconds stall) {
  return app::AwaitDone([&] { return tally.done.load(std::memory_order_acquire); },
                        [&] { return static_cast<uint64_t>(tally.acknowledged.load()); }, stall,
                        std::chrono::milliseconds(1));
}

struct Measured {
  double seconds = 0;
  uint64_t fsyncs = 0;
  uint64_t committed_batches = 0;
  std::optional<ProcessCost> cost;  // during the run: after open, before close
};

Result<Measured> Drive(Bus& bus, const BenchOptions& options, uint64_t commands, Tally& tally) {
  const PayloadPool payloads(1024, options.payload_bytes);
  const std::vector<std::string> keys = UserKeys(options.users);
  const Result<ProcessCost> cost_before = ReadProcessCost();
  const uint64_t fsyncs_before = bus.SyncedWrites();
  const uint64_t batches_before = bus.CommittedBatches();
  const auto start = SteadyClock::now();
  const Plan plan{.commands = commands,
                  .batch = options.batch,
                  .in_flight = std::max<uint64_t>(options.in_flight, options.batch),
                  .stop_submitting = start + std::chrono::seconds(options.max_seconds)};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] { Produce(bus, plan, p, payloads, keys, tally); });
  }
  for (std::thread& t : threads) t.join();
  if (!AwaitDone(tally, std::chrono::seconds(30))) {
    return Error(Status::DeadlineExceeded(fmt::format(
        "no completion for 30 s; {} of {} done", tally.done.load(), tally.acknowledged.load())));
  }
  Measured m;
  m.seconds = (tally.last_done_ns.load() - start.time_since_epoch().count()) / 1e9;
  m.fsyncs = bus.SyncedWrites() - fsyncs_before;
  m.committed_batches = bus.CommittedBatches() - batches_before;
  const Result<ProcessCost> cost_after = ReadProcessCost();
  if (cost_before && cost_after) {
    m.cost = ProcessCost{
        .disk_write_bytes = cost_after->disk_write_bytes - cost_before->disk_write_bytes,
        .cpu_seconds = cost_after->cpu_seconds - cost_before->cpu_seconds};
  }
  return m;
}

void AddDurableFigures(BenchResult& result, const Measured& m, uint64_t done) {
  if (m.fsyncs == 0) return;
  result.extra.Add("fsyncs", static_cast<int64_t>(m.fsyncs));
  // Each command is written twice (its insert at submit, its outcome at completion), and
  // one fsync may carry inserts, outcomes or both: commands / fsyncs is the group-commit
  // factor per command; command_writes_per_fsync (2 × commands / fsyncs) per write.
  result.extra.Add("commands_per_fsync", static_cast<double>(done) / m.fsyncs);
  result.extra.Add("command_writes_per_fsync", 2.0 * done / m.fsyncs);
  result.extra.Add("committed_batches", static_cast<int64_t>(m.committed_batches));
}

BenchResult MakeResult(const BenchOptions& options, const Tally& tally, const Measured& m) {
  const bool durable = options.mode == "durable";
  BenchResult result{.workload = "W1.sat", .mode = options.mode};
  result.durability = durable ? "D1" : "D0";
  result.transport = "inproc";
  const uint64_t done = tally.done.load();
  result.commands = done;
  result.seconds = m.seconds;
  result.throughput_per_s = done / m.seconds;
  result.latency_us = LatencyFrom(tally.latency.Snapshot());
  result.params.Add("producers", int64_t{kProducers});
  result.params.Add("workers", int64_t{kWorkers});
  result.params.Add("batch", static_cast<int64_t>(options.batch));
  result.params.Add("in_flight", static_cast<int64_t>(options.in_flight));
  result.params.Add("partitions", int64_t{options.partitions});
  result.params.Add("payload_bytes", static_cast<int64_t>(options.payload_bytes));
  result.params.Add("users", static_cast<int64_t>(options.users));
  if (durable) result.params.Add("store_index", int64_t{options.store_index});
  if (durable) AddDurableFigures(result, m, done);
  if (m.cost && done > 0) {
    if (durable) {
      result.extra.Add("disk_bytes_per_command",
                       static_cast<double>(m.cost->disk_write_bytes) / done);
    }
    result.extra.Add("cpu_us_per_command", m.cost->cpu_seconds * 1e6 / done);
  }
  result.extra.Add("lost", static_cast<int64_t>(tally.acknowledged.load() - done));
  result.extra.Add("dead", static_cast<int64_t>(tally.dead.load()));
  result.extra.Add("submit_errors", static_cast<int64_t>(tally.submit_errors.load()));
  FillMachine(result);
  return result;
}

}  // namespace

Result<BenchResult> RunW1Sat(const BenchOptions& options) {
  const uint64_t commands = options.commands ? options.commands : kW1SatDefaultCommands;
  std::unique_ptr<ScratchDir> dir;
  if (options.mode == "durable") {
    auto made = ScratchDir::Make(options.data_dir);
    if (!made) return Error(made.error());
    dir = std::move(*made);
  }
  auto store = OpenStore(options, dir.get());
  if (!store) return Error(store.error());
  auto tally = std::make_unique<Tally>();
  Result<std::unique_ptr<Bus>> bus = StartBus(options, std::move(*store), *tally);
  if (!bus) return Error(bus.error());
  const auto start = SteadyClock::now();
  ProgressLine progress([&] {
    const uint64_t done = tally->done.load(std::memory_order_relaxed);
    const double s = std::chrono::duration<double>(SteadyClock::now() - start).count();
    return fmt::format("W1.sat {} {} {:.0f} k/s", options.mode, RenderBar(double(done) / commands),
                       done / s / 1e3);
  });
  if (!options.json) progress.Start();
  Result<Measured> measured = Drive(**bus, options, commands, *tally);
  if (!options.json) progress.Stop();
  (*bus)->Stop(StopMode::kNow);
  bus->reset();  // closes the store before its directory goes
  if (!measured) return Error(measured.error());
  return MakeResult(options, *tally, *measured);
}

}  // namespace cmdq::app
