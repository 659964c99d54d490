// W5 (WORKLOADS.md): retention under load, in-process and durable.
#pragma once

#include "bench_workloads.h"

namespace cmdq::app {

inline constexpr uint64_t kW5DefaultCommands = 200'000;

// A durable bus (RocksDB, D1) takes --commands 1 KB commands (2 producers, SubmitBatch of
// --batch, no-op handler) while a RetentionJob with a 2 s retention runs every 0.5 s;
// the run ends when every command is archived and deleted. Reports bytes on disk over
// time, archive bytes per command, archive and delete throughput, and whether a sampled
// command reads back from its archive identical to what was submitted.
Result<BenchResult> RunW5(const BenchOptions& options);

}  // namespace cmdq::app
