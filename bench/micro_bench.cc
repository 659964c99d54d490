// Micro-benchmarks of the pieces on cmdq's hot path: id generation, the record codec, the
// partitioner, the idempotency-key table and a sync-mode submit. Figures are per operation, 1 KB
// incompressible payloads as in WORKLOADS.md. Run: build/release/bench/cmdq_micro_bench
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "cmdq/bus.h"
#include "cmdq/command_id.h"
#include "core/codec.h"
#include "core/partitioner.h"
#include "engine/dedup_table.h"
#include "protocol/base64.h"

namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 random(seed);
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

cmdq::Record SampleRecord() {
  cmdq::Record record;
  record.command.id = cmdq::IdGenerator().Next();
  record.command.type = "cmdq.noop";
  record.command.key = "user-01234";
  record.command.payload = RandomBytes(1024, 1);
  record.command.created_at_us = 1'767'225'600'000'000;
  record.state = cmdq::State::kSucceeded;
  record.attempt = 1;
  record.updated_at_us = record.command.created_at_us + 250;
  return record;
}

void BM_CommandIdNext(benchmark::State& state) {
  cmdq::IdGenerator ids;
  for (auto _ : state) benchmark::DoNotOptimize(ids.Next());
}
BENCHMARK(BM_CommandIdNext);
BENCHMARK(BM_CommandIdNext)->Threads(2);

void BM_EncodeRecord1K(benchmark::State& state) {
  const cmdq::Record record = SampleRecord();
  for (auto _ : state) benchmark::DoNotOptimize(cmdq::EncodeRecord(record));
  state.SetBytesProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_EncodeRecord1K);

void BM_DecodeRecord1K(benchmark::State& state) {
  const std::string bytes = cmdq::EncodeRecord(SampleRecord());
  for (auto _ : state) benchmark::DoNotOptimize(cmdq::DecodeRecord(bytes));
  state.SetBytesProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_DecodeRecord1K);

// Payloads travel as base64 in the HTTP API (payload_b64): encoded by the client and
// the server's lease answers, decoded by the server's submits and the client's leases.
void BM_Base64Encode1K(benchmark::State& state) {
  const std::string bytes = RandomBytes(1024, 2);
  std::string out;
  for (auto _ : state) {
    out.clear();
    cmdq::protocol::AppendBase64(bytes, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_Base64Encode1K);

void BM_Base64Decode1K(benchmark::State& state) {
  const std::string text = cmdq::protocol::Base64Encode(RandomBytes(1024, 3));
  for (auto _ : state) benchmark::DoNotOptimize(cmdq::protocol::Base64Decode(text, "payload_b64"));
  state.SetBytesProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_Base64Decode1K);

void BM_PartitionOf(benchmark::State& state) {
  std::vector<std::string> keys;
  for (int i = 0; i < 10'000; ++i) keys.push_back("user-" + std::to_string(i));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cmdq::PartitionOf(keys[i++ % keys.size()], 64));
  }
}
BENCHMARK(BM_PartitionOf);

// An idempotency key on every submit (the C++ client puts one on each) with the table at
// its bound (the default 1,000,000 keys): every claim also drops the oldest, which is cold.
void BM_DedupClaimFull(benchmark::State& state) {
  const auto max_keys = static_cast<size_t>(state.range(0));
  cmdq::engine::DedupTable table(int64_t{86'400'000'000}, max_keys);
  uint64_t n = 0;
  auto claim = [&] {
    ++n;
    const std::string key = "idem-" + std::to_string(n * 0x9E3779B97F4A7C15ull);
    return table.ClaimOrGet(key, cmdq::CommandId(n), 1);
  };
  while (n < 2 * max_keys) claim();
  for (auto _ : state) benchmark::DoNotOptimize(claim());
}
BENCHMARK(BM_DedupClaimFull)->Arg(1'000'000);

// Submit in sync mode: validate, id, store, run a no-op handler, record the outcome.
void BM_BusSyncSubmit1K(benchmark::State& state) {
  cmdq::BusOptions options;
  options.mode = cmdq::Mode::kSync;
  cmdq::BusDeps deps;
  deps.store = cmdq::NewMemoryStore({.max_terminal_records = 100'000});
  auto bus = cmdq::Bus::Create(std::move(options), std::move(deps));
  if (!bus) {
    state.SkipWithError(bus.error().ToString().c_str());
    return;
  }
  const auto noop = [](const cmdq::HandlerContext&) -> cmdq::Result<std::string> { return {}; };
  (void)(*bus)->Register("noop", {.execute = noop, .undo = {}});
  (void)(*bus)->Start();
  const std::string payload = RandomBytes(1024, 2);
  for (auto _ : state) {
    cmdq::Command command;
    command.type = "noop";
    command.key = "user-01234";
    command.payload = payload;
    benchmark::DoNotOptimize((*bus)->Submit(std::move(command)));
  }
  (*bus)->Stop();
}
BENCHMARK(BM_BusSyncSubmit1K);

}  // namespace

BENCHMARK_MAIN();
