#include "bench_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <vector>

namespace cmdq::app {

CLI::App* AddBenchCommand(CLI::App& app, BenchOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "bench", "Run a benchmark workload of WORKLOADS.md in this process and print its result");
  cmd->footer(
      "Workloads:\n"
      "  W0.sync   execute() of a no-op 1 KB command in the caller's thread, against the\n"
      "            direct call of the same handler (alternating; medians)\n"
      "  W0.async  1 and 2 producers submit 1 KB commands over 10,000 keys to the async\n"
      "            bus; completed/s and submit->done latency; per-key order is checked\n"
      "Example: cmdq bench --workload W0.async --producers 2 --json");
  cmd->add_option("--workload,-w", options.workload, "Workload to run")
      ->required()
      ->check(CLI::IsMember({"W0.sync", "W0.async"}));
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
  return cmd;
}

namespace {

bool Healthy(const BenchResult& result) {
  for (const auto& [name, value] : result.extra.fields()) {
    if ((name == "order_violations" || name == "lost" || name == "submit_errors") && value != "0") {
      return false;
    }
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
  std::vector<int> producers = {1, 2};
  if (options.producers != 0) producers = {options.producers};
  int code = 0;
  for (int p : producers) code = std::max(code, Report(RunW0Async(options, p), options.json));
  return code;
}

}  // namespace cmdq::app
