#include "bench_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <vector>

#include "bench_w5.h"

namespace cmdq::app {

namespace {

void AddW1SatOptions(CLI::App& cmd, BenchOptions& options) {
  cmd.add_option("--mode", options.mode, "W1.sat: durable (RocksDB, D1) or async (memory, D0)")
      ->check(CLI::IsMember({"durable", "async"}))
      ->capture_default_str();
  cmd.add_option("--transport", options.transport, "W1.sat: how commands reach the bus")
      ->check(CLI::IsMember({"inproc", "http"}))
      ->capture_default_str();
  cmd.add_option("--batch", options.batch, "W1.sat: commands per SubmitBatch")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd.add_option("--in-flight", options.in_flight,
                 "W1.sat: at most this many commands submitted but not done")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  cmd.add_option("--seconds", options.max_seconds, "W1.sat: stop submitting after this long")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd.add_option("--data-dir", options.data_dir,
                 "W1.sat durable: store directory (new or empty; kept). Default: a fresh "
                 "directory under TMPDIR, removed after the run");
  cmd.add_flag("!--no-store-index", options.store_index,
               "W1.sat durable: leave out the store's key and type indexes");
}

void AddHttpOptions(CLI::App& cmd, BenchOptions& options) {
  cmd.add_option("--target", options.target,
                 "http: a running server (its types must include bench.noop, run by remote "
                 "workers). Default: start `cmdq serve` on 127.0.0.1:0 and stop it after");
  cmd.add_option("--durability", options.durability,
                 "http: the started server's durability: D1 (RocksDB, synced) or none (memory); "
                 "with --target, the target's as you state it (it only labels the result)")
      ->check(CLI::IsMember({"D1", "none"}))
      ->capture_default_str();
  cmd.add_option("--rate", options.rate, "W1.10k: commands/s offered")
      ->check(CLI::Range(1.0, 1e7))
      ->capture_default_str();
  cmd.add_option("--users", options.users, "Distinct partition keys; W2: users x 1 command/s")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
}

}  // namespace

CLI::App* AddBenchCommand(CLI::App& app, BenchOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "bench", "Run a benchmark workload of WORKLOADS.md in this process and print its result");
  cmd->footer(
      "Workloads:\n"
      "  W0.sync   execute() of a no-op 1 KB command in the caller's thread, against the\n"
      "            direct call of the same handler, and that call keeping its last 100,000\n"
      "            commands (the keeping floor); alternating rounds, medians\n"
      "  W0.async  1 and 2 producers submit 1 KB commands over 10,000 keys to the async\n"
      "            bus; completed/s and submit->done latency; per-key order is checked;\n"
      "            beside it the keeping floor: one thread hands the same commands to\n"
      "            another, which runs and keeps the last 100,000\n"
      "  W1.sat    2 producers submit 1 KB commands in batches (SubmitBatch), 2 workers run\n"
      "            a no-op handler; 200,000 commands or 20 s; --mode durable (RocksDB, every\n"
      "            submit and outcome synced: D1) or async (memory store: D0)\n"
      "  W1.10k    over HTTP: 10,000 commands/s offered (--rate), open loop; p50/p99/p99.9\n"
      "  W2        over HTTP: --users x 1 command/s, open loop\n"
      "            (--transport http: a `cmdq serve` child, 2 producer and 2 worker\n"
      "            connections, batched submits, leases and completions)\n"
      "  W5        retention: W1's load on the durable bus (200,000 commands) with a 2 s\n"
      "            retention job every 0.5 s; disk bytes over time, archive bytes per\n"
      "            command, archive and delete rates, read-back of an archived command\n"
      "Examples: cmdq bench --workload W0.async --producers 2 --json\n"
      "          cmdq bench --workload W1.sat --mode durable --transport inproc --json");
  cmd->add_option("--workload,-w", options.workload, "Workload to run")
      ->required()
      ->check(CLI::IsMember({"W0.sync", "W0.async", "W1.sat", "W1.10k", "W2", "W5"}));
  cmd->add_flag("--json", options.json,
                "Print the result object as one JSON line per run on stdout (W0.async without "
                "--producers prints two lines: 1 and 2 producers)");
  cmd->add_option("--commands,-n", options.commands,
                  fmt::format("Commands per run (default {} for W0.sync, {} for W0.async)",
                              kW0SyncDefaultCommands, kW0AsyncDefaultCommands));
  cmd->add_option("--producers,-p", options.producers,
                  "W0.async: producer threads, 1 or 2 (default: run both)")
      ->check(CLI::Range(1, 2));
  cmd->add_option("--rounds", options.rounds, "W0.sync: rounds of baseline and bus; medians")
      ->check(CLI::Range(1, 101))
      ->capture_default_str();
  cmd->add_option("--workers", options.workers, "W0.async: worker threads (0 = cores)")
      ->capture_default_str();
  cmd->add_option("--partitions", options.partitions, "W0.async: partitions")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--submit-batch", options.submit_batch,
                  "W0.async: commands per SubmitBatch; 1 = one Submit per command")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  AddW1SatOptions(*cmd, options);
  AddHttpOptions(*cmd, options);
  return cmd;
}

namespace {

bool Healthy(const BenchResult& result) {
  for (const auto& [name, value] : result.extra.fields()) {
    if ((name == "order_violations" || name == "lost" || name == "submit_errors") && value != "0") {
      return false;
    }
    if (name == "readback_ok" && value != "1") return false;
  }
  return true;
}

int Report(const Result<BenchResult>& result, bool json) {
  if (!result) {
    fmt::print(stderr, "cmdq bench: {}\n", result.error().ToString());
    return 1;
  }
  if (json) {
    fmt::print("{}\n", result->ToJson());
  } else {
    fmt::print("{}", result->ToTable());
  }
  std::fflush(stdout);
  return Healthy(*result) ? 0 : 1;
}

}  // namespace

int RunBench(const BenchOptions& options) {
  if (options.workload == "W0.sync") return Report(RunW0Sync(options), options.json);
  if (options.transport == "http" || options.workload == "W1.10k" || options.workload == "W2") {
    return Report(RunHttpBench(options), options.json);
  }
  if (options.workload == "W1.sat") return Report(RunW1Sat(options), options.json);
  if (options.workload == "W5") return Report(RunW5(options), options.json);
  std::vector<int> producers = {1, 2};
  if (options.producers != 0) producers = {options.producers};
  int code = 0;
  for (int p : producers) code = std::max(code, Report(RunW0Async(options, p), options.json));
  return code;
}

}  // namespace cmdq::app
