// The workloads `cmdq bench` runs (WORKLOADS.md), each producing one BenchResult.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "bench_result.h"
#include "cmdq/command.h"
#include "cmdq/status.h"

namespace cmdq::app {

struct BenchOptions {
  std::string workload;       // "W0.sync", "W0.async", "W1.sat", "W1.10k", "W2" or "W5"
  bool json = false;          // print the JSON result object instead of a table
  uint64_t commands = 0;      // per run; 0 = the workload's default
  int producers = 0;          // W0.async: 1 or 2; 0 = run both
  int rounds = 5;             // W0.sync: alternating baseline/bus rounds; medians reported
  uint32_t workers = 0;       // async workers; 0 = the number of cores
  uint32_t partitions = 64;   // async partitions
  uint64_t submit_batch = 1;  // W0.async: commands per SubmitBatch; 1 = one Submit each
  size_t users = 10'000;      // distinct partition keys
  size_t payload_bytes = 1024;
  // W1.sat only.
  std::string mode = "durable";  // "durable" (RocksDB, D1) or "async" (memory, D0)
  std::string transport = "inproc";
  uint64_t batch = 256;       // commands per SubmitBatch
  uint64_t in_flight = 4096;  // submitted but not done, at most; producers wait for room
  int max_seconds = 20;       // of submitting, at most
  std::string data_dir;       // durable store; empty = a fresh temporary directory
  bool store_index = true;    // the store's key and type indexes (RocksDbStoreOptions)
  // --transport http (W1.sat, W1.10k, W2).
  std::string target;             // a running server; empty = start a `cmdq serve` child
  std::string durability = "D1";  // the child server's: "D1" (durable) or "none" (memory)
  double rate = 10'000;           // W1.10k: commands/s offered
};

inline constexpr char kW0AsyncType[] = "bench.noop";

// A W0.async command as its load generator builds it: the payload is copied from the pool.
inline Command W0AsyncCommand(const std::string& key, const std::string& payload) {
  Command command;
  command.type = kW0AsyncType;
  command.key = key;
  command.payload = payload;
  return command;
}

// Default commands per run of each workload.
inline constexpr uint64_t kW0SyncDefaultCommands = 300'000;
inline constexpr uint64_t kW0AsyncDefaultCommands = 2'000'000;
inline constexpr uint64_t kW1SatDefaultCommands = 200'000;

// W0.sync: Submit() of a no-op command in the caller's thread against the direct call of
// the same handler, alternating, medians of `rounds`.
Result<BenchResult> RunW0Sync(const BenchOptions& options);
// W0.async: `producers` threads submit to the async bus; throughput until the last
// completion, submit->done latency, and a per-key order check.
Result<BenchResult> RunW0Async(const BenchOptions& options, int producers);
// W1.sat in-process: 2 producers submit batches, 2 workers run a no-op handler; done is
// the stored outcome (durable: synced). Throughput, submit->done latency, fsyncs, disk
// bytes per command.
Result<BenchResult> RunW1Sat(const BenchOptions& options);
// W1.sat, W1.10k and W2 over HTTP against a `cmdq serve` (bench_http.cc).
Result<BenchResult> RunHttpBench(const BenchOptions& options);

}  // namespace cmdq::app
