// `cmdq bench`: runs a named workload of WORKLOADS.md in-process and prints its result
// object (--json) or a readable table.
#pragma once

#include <CLI/CLI.hpp>

#include "bench_workloads.h"

namespace cmdq::app {

// Adds the subcommand to `app`; parsed values land in `options`.
CLI::App* AddBenchCommand(CLI::App& app, BenchOptions& options);
// Runs it; returns the process exit code: 0 done, 1 the run failed or broke an invariant
// (lost commands, order violations).
int RunBench(const BenchOptions& options);

}  // namespace cmdq::app
