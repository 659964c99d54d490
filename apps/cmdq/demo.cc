#include "demo.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "builtin_types.h"
#include "cmdq/bus.h"
#include "demo_load.h"
#include "demo_stats.h"
#include "progress_line.h"

namespace cmdq::app {

CLI::App* AddDemoCommand(CLI::App& app, DemoOptions& options) {
  CLI::App* cmd =
      app.add_subcommand("demo", "Simulate tiers T1 (sync) and T2 (async) with live progress");
  cmd->footer(
      "Simulate tiers T1 (sync) and T2 (async) in this process: --users users each send one\n"
      "command per simulated second (--speed compresses time) over a mix of fast, slow,\n"
      "flaky (fails, then succeeds on retry) and broken (goes dead) commands.\n"
      "Example: cmdq demo --users 2000 --speed 10 --seconds 5 --tiers t2");
  cmd->add_option("--users,-u", options.users, "Simulated users")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}))
      ->capture_default_str();
  cmd->add_option("--speed,-x", options.speed, "Simulated seconds per real second")
      ->check(CLI::Range(0.01, 10'000.0))
      ->capture_default_str();
  cmd->add_option("--seconds,-s", options.seconds, "Real seconds each tier sends for")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--tiers", options.tiers, "Tiers to run, in order")
      ->check(CLI::IsMember({"t1", "t2"}))
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--workers", options.workers,
                  "T2 worker threads (0 = cores); slow handlers sleep, so more than cores")
      ->capture_default_str();
  cmd->add_option("--sync-senders", options.sync_senders, "T1 sending threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  return cmd;
}

namespace {

using SteadyClock = std::chrono::steady_clock;

struct TierSummary {
  std::string name;
  Mode mode = Mode::kSync;
  double offered_per_s = 0;
  double achieved_per_s = 0;
  uint64_t submitted = 0;
  uint64_t refused = 0;
  uint64_t succeeded = 0;
  uint64_t retries = 0;
  uint64_t dead = 0;
  HistogramSnapshot latency;
  std::vector<AuditEvent> sample_audit;
};

Result<std::unique_ptr<Bus>> StartDemoBus(Mode mode, uint32_t workers, TierStats& stats) {
  BusOptions options;
  options.mode = mode;
  options.workers = workers;
  options.on_finished = [&stats](const Completion& c) { stats.OnFinished(c); };
  BusDeps deps;
  deps.store = NewMemoryStore();
  deps.cache = NewLruCache(10'000);
  Result<std::unique_ptr<Bus>> bus = Bus::Create(std::move(options), std::move(deps));
  if (!bus) return bus;
  if (Status s = RegisterBuiltinTypes(**bus, DemoTypeOptions()); !s.ok()) return Error(s);
  if (Status s = (*bus)->Start(); !s.ok()) return Error(s);
  return bus;
}

// Waits for the commands still queued or waiting for a retry, at most `limit`.
void AwaitFinished(const TierStats& stats, std::chrono::seconds limit) {
  const auto deadline = SteadyClock::now() + limit;
  while (SteadyClock::now() < deadline &&
         stats.finished.load() < stats.submitted.load() - stats.submit_errors.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TierSummary Summarize(const std::string& name, Mode mode, const LoadPlan& plan,
                      const TierStats& stats, double elapsed_s) {
  TierSummary s{.name = name, .mode = mode};
  s.offered_per_s = plan.users * plan.speed;
  s.submitted = stats.submitted.load();
  s.refused = stats.submit_errors.load();
  s.succeeded = stats.succeeded.load();
  s.retries = stats.retries.load();
  s.dead = stats.dead.load();
  s.achieved_per_s = stats.finished.load() / elapsed_s;
  s.latency = stats.latency.Snapshot();
  return s;
}

Result<TierSummary> RunTier(const std::string& tier, const DemoOptions& options) {
  const Mode mode = tier == "t1" ? Mode::kSync : Mode::kAsync;
  const std::string label = mode == Mode::kSync ? "T1 sync" : "T2 async";
  auto stats = std::make_unique<TierStats>();
  Result<std::unique_ptr<Bus>> bus = StartDemoBus(mode, options.workers, *stats);
  if (!bus) return Error(bus.error());
  const int senders = mode == Mode::kSync ? options.sync_senders : 2;
  const LoadPlan plan{.users = options.users,
                      .speed = options.speed,
                      .seconds = options.seconds,
                      .senders = static_cast<int>(std::min<size_t>(senders, options.users))};
  TierProgress progress_state(label, *stats, **bus, options.seconds);
  ProgressLine progress([&progress_state] { return progress_state.Render(); });
  std::atomic<uint64_t> sample{0};
  const auto start = SteadyClock::now();
  progress.Start();
  RunUsers(**bus, plan, *stats, sample);
  AwaitFinished(*stats, std::chrono::seconds(5));
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
  progress.Stop();
  TierSummary summary = Summarize(label, mode, plan, *stats, elapsed);
  if (sample.load() != 0) {
    if (auto audit = (*bus)->Audit(CommandId(sample.load()))) summary.sample_audit = *audit;
  }
  (*bus)->Stop(StopMode::kDrain);
  return summary;
}

std::string Ms(int64_t ns) { return fmt::format("{:.3f}", ns / 1e6); }

void PrintSummary(const std::vector<TierSummary>& tiers) {
  fmt::print("\n{:<9} {:>10} {:>10} {:>9} {:>9} {:>8} {:>6} {:>8} {:>8} {:>8} {:>8}\n", "tier",
             "offered/s", "done/s", "commands", "succeeded", "retries", "dead", "p50 ms", "p99 ms",
             "p99.9 ms", "max ms");
  for (const TierSummary& t : tiers) {
    fmt::print("{:<9} {:>10.0f} {:>10.0f} {:>9} {:>9} {:>8} {:>6} {:>8} {:>8} {:>8} {:>8}\n",
               t.name, t.offered_per_s, t.achieved_per_s, t.submitted, t.succeeded, t.retries,
               t.dead, Ms(t.latency.PercentileNs(0.5)), Ms(t.latency.PercentileNs(0.99)),
               Ms(t.latency.PercentileNs(0.999)), Ms(t.latency.max_ns()));
    if (t.refused != 0) fmt::print("          ({} submits refused)\n", t.refused);
  }
  fmt::print("latency: submit -> final state (succeeded or dead), retries and backoff included\n");
}

void PrintAudit(const TierSummary& tier) {
  if (tier.sample_audit.empty()) return;
  fmt::print("\naudit trail of one flaky command ({}, id {}):\n", tier.name,
             tier.sample_audit.front().id.ToString());
  const int64_t t0 = tier.sample_audit.front().time_us;
  for (const AuditEvent& e : tier.sample_audit) {
    fmt::print("  +{:>8.3f} ms  {:<9} -> {:<9} attempt {}{}{}\n", (e.time_us - t0) / 1e3,
               StateName(e.from), StateName(e.to), e.attempt, e.message.empty() ? "" : "  ",
               e.message);
  }
}

}  // namespace

int RunDemo(const DemoOptions& options) {
  fmt::print(stderr,
             "cmdq demo: {} users x 1 command/s, speed {}x = {:.0f} commands/s offered, "
             "{} s per tier\n",
             options.users, options.speed, options.users * options.speed, options.seconds);
  std::vector<TierSummary> summaries;
  for (const std::string& tier : options.tiers) {
    Result<TierSummary> summary = RunTier(tier, options);
    if (!summary) {
      fmt::print(stderr, "cmdq demo: tier {}: {}\n", tier, summary.error().ToString());
      return 1;
    }
    summaries.push_back(std::move(*summary));
  }
  PrintSummary(summaries);
  for (const TierSummary& t : summaries) PrintAudit(t);
  return 0;
}

}  // namespace cmdq::app
