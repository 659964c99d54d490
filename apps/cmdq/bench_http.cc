// W1.sat, W1.10k and W2 over HTTP (WORKLOADS.md): a `cmdq serve` (a child started here,
// or --target), 2 producer connections submitting batches, 2 worker connections leasing
// batches with long-poll and completing them with POST /v1/completions; all of it on this
// machine, server and load generator sharing its 2 cores. bench_http_load.h says how
// submit->done is measured.
//   W1.sat  closed loop: at most --in-flight commands submitted but not done (decision
//           0010), --commands (200,000) or --seconds (20) of submitting.
//   W1.10k  open loop: --rate (10,000/s) offered for --seconds, keys uniform.
//   W2      open loop: --users x 1 command/s, user n sends the commands n, n + users...
// Throughput counts from the first submit to the last acknowledged completion.
#include <fmt/format.h>

#include <cmath>
#include <thread>

#include "bench_http_load.h"
#include "bench_http_server.h"
#include "bench_workloads.h"
#include "cmdq/client.h"
#include "process_io.h"
#include "progress_line.h"

namespace cmdq::app {
namespace {

constexpr char kType[] = "bench.noop";
constexpr int kProducers = 2;
constexpr int kWorkers = 2;

bool Durable(const BenchOptions& options) { return options.durability != "none"; }

HttpLoadPlan MakePlan(const BenchOptions& options, const std::string& target) {
  HttpLoadPlan plan{.target = target, .type = kType};
  plan.producers = kProducers;
  plan.loop.batch = options.batch;
  if (options.workload == "W1.sat") {
    plan.loop.commands = options.commands ? options.commands : kW1SatDefaultCommands;
    plan.loop.in_flight = std::max<uint64_t>(options.in_flight, options.batch);
  } else {
    plan.rate = options.workload == "W2" ? double(options.users) : options.rate;
    plan.round_robin = options.workload == "W2";
    plan.loop.commands = static_cast<uint64_t>(std::llround(plan.rate * options.max_seconds));
  }
  plan.start = SteadyClock::now();
  plan.loop.stop_submitting = plan.start + std::chrono::seconds(options.max_seconds);
  return plan;
}

struct Costs {
  double server_cpu_seconds = -1;  // -1: not known (an outside server)
  double load_cpu_seconds = -1;
};

Status Drive(HttpLoadPlan& plan, const LoadData& data, HttpTally& tally) {
  std::vector<std::thread> workers, producers;
  for (int w = 0; w < kWorkers; ++w)
    workers.emplace_back([&, w] { RunHttpWorker(plan, w, tally); });
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      if (plan.rate > 0) {
        RunOpenLoopProducer(plan, p, data, tally);
      } else {
        RunClosedLoopProducer(plan, p, data, tally);
      }
    });
  }
  for (std::thread& t : producers) t.join();
  // Every acknowledged command must complete; give up after 30 s without progress.
  uint64_t seen = 0;
  auto last_progress = SteadyClock::now();
  Status status;
  while (tally.done.load() + tally.outcome_errors.load() < tally.acknowledged.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (const uint64_t d = tally.done.load(); d != seen) {
      seen = d;
      last_progress = SteadyClock::now();
    } else if (SteadyClock::now() - last_progress > std::chrono::seconds(30)) {
      status = Status::DeadlineExceeded(
          fmt::format("no completion for 30 s; {} of {} done", d, tally.acknowledged.load()));
      break;
    }
  }
  tally.stop_workers.store(true);
  for (std::thread& t : workers) t.join();
  return status;
}

BenchResult MakeResult(const BenchOptions& options, const HttpLoadPlan& plan,
                       const HttpTally& tally, const Costs& costs) {
  BenchResult result{.workload = options.workload, .mode = Durable(options) ? "durable" : "async"};
  result.durability = Durable(options) ? "D1" : "D0";
  result.transport = "http";
  const uint64_t done = tally.done.load();
  result.commands = done;
  result.seconds = double(tally.last_done_ns.load() - plan.start.time_since_epoch().count()) / 1e9;
  if (result.seconds > 0) result.throughput_per_s = double(done) / result.seconds;
  if (done > 0) result.latency_us = LatencyFrom(tally.latency.Snapshot());
  result.params.Add("producers", int64_t{kProducers});
  result.params.Add("workers", int64_t{kWorkers});
  result.params.Add("batch", static_cast<int64_t>(options.batch));
  if (plan.rate > 0) {
    result.params.Add("offered_per_s", plan.rate);
  } else {
    result.params.Add("in_flight", static_cast<int64_t>(plan.loop.in_flight));
  }
  result.params.Add("payload_bytes", static_cast<int64_t>(options.payload_bytes));
  result.params.Add("users", static_cast<int64_t>(options.users));
  if (done > 0 && costs.server_cpu_seconds >= 0) {
    result.extra.Add("server_cpu_us_per_command", costs.server_cpu_seconds * 1e6 / double(done));
    result.extra.Add("server_cpu_cores", costs.server_cpu_seconds / result.seconds);
  }
  if (done > 0 && costs.load_cpu_seconds >= 0) {
    result.extra.Add("load_cpu_us_per_command", costs.load_cpu_seconds * 1e6 / double(done));
  }
  // The stages of submit->done, to tell where a tail comes from.
  for (const auto& [name, histogram] :
       {std::pair<const char*, const LatencyHistogram*>{"send_late", &tally.send_late},
        {"submit_rtt", &tally.submit_rtt},
        {"to_leased", &tally.to_leased},
        {"completion_rtt", &tally.completion_rtt}}) {
    const HistogramSnapshot stage = histogram->Snapshot();
    if (stage.count() == 0) continue;
    result.extra.Add(std::string(name) + "_p50_us", double(stage.PercentileNs(0.5)) / 1e3);
    result.extra.Add(std::string(name) + "_p99_us", double(stage.PercentileNs(0.99)) / 1e3);
  }
  result.extra.Add("http_requests", static_cast<int64_t>(tally.requests.load()));
  result.extra.Add("lost", static_cast<int64_t>(tally.acknowledged.load() - done));
  result.extra.Add("submit_errors", static_cast<int64_t>(tally.submit_errors.load()));
  result.extra.Add("completion_errors", static_cast<int64_t>(tally.outcome_errors.load()));
  result.extra.Add("lease_errors", static_cast<int64_t>(tally.lease_errors.load()));
  FillMachine(result);
  result.machine_note = "server and load generator share the machine (loopback HTTP)";
  return result;
}

}  // namespace

Result<BenchResult> RunHttpBench(const BenchOptions& options) {
  std::unique_ptr<ServeChild> server;
  std::string target = options.target;
  if (target.empty()) {
    auto started = ServeChild::Start(
        {.types = {kType}, .durable = Durable(options), .data_dir = options.data_dir});
    if (!started) return Error(started.error());
    server = std::move(*started);
    target = server->target();
  }
  if (auto probe = Client::Create(ClientOptions{.target = target}); !probe) {
    return Error(probe.error());
  }
  const LoadData data{PayloadPool(1024, options.payload_bytes), UserKeys(options.users)};
  auto tally = std::make_unique<HttpTally>();
  const double server_cpu_before = server ? server->CpuSeconds() : -1;
  const Result<ProcessCost> load_before = ReadProcessCost();
  HttpLoadPlan plan = MakePlan(options, target);
  ProgressLine progress([&] {
    const uint64_t done = tally->done.load(std::memory_order_relaxed);
    const double s = std::chrono::duration<double>(SteadyClock::now() - plan.start).count();
    const double fraction =
        plan.rate > 0 ? s / options.max_seconds : double(done) / plan.loop.commands;
    return fmt::format("{} http {} {:.0f} k/s", options.workload,
                       RenderBar(std::min(fraction, 1.0)), done / s / 1e3);
  });
  if (!options.json) progress.Start();
  Status driven = Drive(plan, data, *tally);
  if (!options.json) progress.Stop();
  Costs costs;
  if (server) costs.server_cpu_seconds = server->CpuSeconds() - server_cpu_before;
  if (const Result<ProcessCost> after = ReadProcessCost(); load_before && after) {
    costs.load_cpu_seconds = after->cpu_seconds - load_before->cpu_seconds;
  }
  if (server) {
    if (Status stopped = server->Stop(); !stopped.ok() && driven.ok()) driven = stopped;
  }
  if (tally->refused.load()) return Error(tally->Refusal());
  if (!driven.ok()) return Error(driven);
  return MakeResult(options, plan, *tally, costs);
}

}  // namespace cmdq::app
