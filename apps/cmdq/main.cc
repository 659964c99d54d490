// cmdq: the one binary. Each subcommand lives in its own file and adds itself here.
//
// Exit codes: 0 success; 1 the work failed (see the message on stderr); 2 bad usage.
#include <CLI/CLI.hpp>

#include "archive_command.h"
#include "bench_command.h"
#include "client_commands.h"
#include "demo.h"
#include "serve_command.h"
#include "worker_command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "cmdq: a command-execution service. Submit commands (a type, a partition key and a\n"
      "payload); cmdq stores, queues and runs them, with retries, per-key order and an\n"
      "audit trail."};
  app.require_subcommand(1);
  cmdq::app::DemoOptions demo_options;
  cmdq::app::BenchOptions bench_options;
  CLI::App* demo = cmdq::app::AddDemoCommand(app, demo_options);
  CLI::App* bench = cmdq::app::AddBenchCommand(app, bench_options);
  cmdq::app::ArchiveCommandOptions archive_options;
  CLI::App* archive = cmdq::app::AddArchiveCommand(app, archive_options);
  cmdq::app::ServeOptions serve_options;
  CLI::App* serve = cmdq::app::AddServeCommand(app, serve_options);
  cmdq::app::ClientCommandOptions client_options;
  const cmdq::app::ClientCommands client_commands =
      cmdq::app::AddClientCommands(app, client_options);
  cmdq::app::WorkerOptions worker_options;
  CLI::App* worker = cmdq::app::AddWorkerCommand(app, worker_options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (demo->parsed()) return cmdq::app::RunDemo(demo_options);
  if (bench->parsed()) return cmdq::app::RunBench(bench_options);
  if (archive->parsed()) return cmdq::app::RunArchive(*archive, archive_options);
  if (serve->parsed()) return cmdq::app::RunServe(*serve, serve_options);
  if (worker->parsed()) return cmdq::app::RunWorker(worker_options);
  if (auto code = cmdq::app::RunClientCommands(client_commands, client_options)) return *code;
  return 2;
}
