#include "worker_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "child_program.h"

namespace cmdq::app {
namespace {

using std::chrono::milliseconds;

// Set by SIGTERM/SIGINT: stop leasing, finish what runs, exit 0.
std::atomic<bool> g_stopping{false};

void OnStopSignal(int) { g_stopping.store(true); }

void InstallSignals() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a program that exits without reading its input
}

std::string DefaultName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return fmt::format("{}-{}", host, getpid());
}

// What the threads share.
struct Shared {
  const WorkerOptions& options;
  LeaseOptions lease;
  milliseconds lease_length;
  std::atomic<uint64_t> claimed{0};  // commands taken against --max
  std::atomic<uint64_t> succeeded{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<bool> reached_server{false};
};

// Takes one command's room under --max; false when the budget is spent.
bool Claim(Shared& shared) {
  if (shared.options.max == 0) return true;
  if (shared.claimed.fetch_add(1) < shared.options.max) return true;
  shared.claimed.fetch_sub(1);
  return false;
}

WorkerOutcome Outcome(const LeasedCommand& leased, Result<ProgramRun> run) {
  WorkerOutcome outcome{.id = leased.record.command.id, .lease = leased.lease};
  if (!run) {
    outcome.succeeded = false;
    outcome.error = run.error().ToString();
    return outcome;
  }
  if (run->succeeded()) {
    outcome.result = std::move(run->output);
    return outcome;
  }
  outcome.succeeded = false;
  if (run->output_too_large) {
    outcome.error = "the program's output is over the 1 MiB result limit";
    outcome.retryable = false;
  } else if (run->signal != 0) {
    outcome.error = fmt::format("killed by signal {}: {}", run->signal, run->error_tail);
  } else {
    outcome.error = fmt::format("exit status {}: {}", run->exit_code, run->error_tail);
    outcome.retryable = run->exit_code != kPermanentFailureExit;
  }
  return outcome;
}

void RunOne(Client& client, Shared& shared, const LeasedCommand& leased) {
  // Heartbeat at half the lease, so a long program keeps its command; a lost lease
  // (the command already runs elsewhere) is reported but the program is left to finish.
  auto heartbeat = [&] {
    if (Status s = client.Heartbeat(leased.lease, shared.lease_length); !s.ok()) {
      fmt::print(stderr, "cmdq worker: heartbeat {}: {}\n", leased.record.command.id.ToString(),
                 s.ToString());
    }
  };
  WorkerOutcome outcome =
      Outcome(leased, RunProgram(shared.options.exec, leased.record.command.payload,
                                 ProgramLimits{}, shared.lease_length / 2, heartbeat));
  (outcome.succeeded ? shared.succeeded : shared.failed).fetch_add(1);
  if (Status s = client.Report(outcome); !s.ok()) {
    fmt::print(stderr, "cmdq worker: report {}: {}\n", outcome.id.ToString(), s.ToString());
  }
}

void WorkLoop(Shared& shared) {
  auto client = Client::Create(ClientOptionsFor(shared.options.connection));
  if (!client) return;
  while (!g_stopping.load() && Claim(shared)) {
    auto leased = (*client)->Lease(shared.lease);
    if (!leased) {
      if (shared.options.max != 0) shared.claimed.fetch_sub(1);
      fmt::print(stderr, "cmdq worker: lease: {}\n", leased.error().ToString());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    shared.reached_server.store(true);
    if (leased->empty() && shared.options.max != 0) shared.claimed.fetch_sub(1);
    for (const LeasedCommand& command : *leased) RunOne(**client, shared, command);
  }
}

}  // namespace

CLI::App* AddWorkerCommand(CLI::App& app, WorkerOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "worker", "Run a program for each command of the given types that a server hands out");
  cmd->footer(
      "The program runs under /bin/sh -c with the payload on standard input. Exit status 0:\n"
      "the command succeeds with the program's standard output as its result. Any other\n"
      "status, or a signal: the command fails with the end of standard error, and is retried\n"
      "by the type's policy; exit status 65 (EX_DATAERR) fails it for good (dead at once).\n"
      "A program that runs longer than half its lease gets its lease extended. SIGTERM or\n"
      "SIGINT: no new leases; running programs finish and report; then exit 0.\n"
      "Example: cmdq worker --type image.resize --exec './resize --width 200' --concurrency 4");
  cmd->add_option("--type,-t", options.types, "A type to run (repeatable)")->required();
  cmd->add_option("--exec,-e", options.exec, "The program and its arguments (a shell command)")
      ->required();
  cmd->add_option("--concurrency,-c", options.concurrency, "Programs running at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--max", options.max, "Exit after this many commands (0 = until SIGTERM)")
      ->capture_default_str();
  cmd->add_option("--name", options.name,
                  "This worker's name in the audit trail (default host-pid)");
  cmd->add_option("--lease", options.lease, "How long a lease lasts (heartbeats at half)")
      ->capture_default_str();
  cmd->add_option("--poll", options.poll, "Long-poll wait of each lease request")
      ->capture_default_str();
  AddConnectionFlags(*cmd, options.connection);
  return cmd;
}

int RunWorker(const WorkerOptions& options) {
  auto lease_length = ParseDuration(options.lease, "lease");
  if (!lease_length) return ReportUsage("worker", lease_length.error());
  auto poll = ParseDuration(options.poll, "poll");
  if (!poll) return ReportUsage("worker", poll.error());
  InstallSignals();
  Shared shared{.options = options,
                .lease = {.types = options.types,
                          .max = 1,
                          .wait = *poll,
                          .lease = *lease_length,
                          .worker = options.name.empty() ? DefaultName() : options.name},
                .lease_length = *lease_length};
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < options.concurrency; ++i)
    threads.emplace_back([&] { WorkLoop(shared); });
  for (std::thread& t : threads) t.join();
  fmt::print(stderr, "cmdq worker: {} succeeded, {} failed\n", shared.succeeded.load(),
             shared.failed.load());
  return shared.reached_server.load() ? kExitOk : kExitUnavailable;
}

}  // namespace cmdq::app
