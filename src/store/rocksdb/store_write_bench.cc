// cmdq_store_write_bench: the write throughput of the RocksDB store alone, the figures
// behind its layout (docs/decisions/0006-rocksdb-layout.md).
//
// Each writer thread repeats: one batch of `batch` inserts (1 KB random payloads), then
// one batch that moves the same commands pending -> running -> succeeded (what a
// committer that merges submits and completions writes). Reported per configuration
// (synced or not, with or without the key/type index), median of `runs` runs, each in a
// fresh directory: commands/s, RocksDB entries per command (sequence numbers used),
// bytes written to disk per command (/proc/self/io write_bytes, which counts this
// process's flushes and compactions too) and commands per WAL fsync (each synced Write
// is one fdatasync: the store serializes its writes).
//
// Usage: cmdq_store_write_bench [commands_per_run=300000] [dir=/tmp] [runs=3] [threads=2]
#include <rocksdb/db.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cmdq/command_id.h"
#include "cmdq/rocksdb_store.h"

namespace {

using cmdq::State;

constexpr size_t kPayloadBytes = 1024;
constexpr size_t kBatch = 256;

int64_t WriteBytes() {
  std::ifstream io("/proc/self/io");
  std::string name;
  int64_t value = 0;
  while (io >> name >> value) {
    if (name == "write_bytes:") return value;
  }
  return 0;
}

struct RunResult {
  double commands_per_s = 0;
  double entries_per_command = 0;
  double bytes_per_command = 0;
  double commands_per_fsync = 0;
};

// Sequence numbers the store used: one per RocksDB entry written.
uint64_t EntriesWritten(const std::string& path) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* n : {"default", "meta", "commands", "status", "index"}) {
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, cfs, &handles, &db).ok()) return 0;
  uint64_t seq = db->GetLatestSequenceNumber();
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  delete db;
  return seq;
}

RunResult RunOnce(const std::string& path, size_t commands, int threads, bool sync, bool index) {
  std::filesystem::remove_all(path);
  cmdq::RocksDbStoreOptions options{.path = path, .index_key_and_type = index};
  auto opened = cmdq::OpenRocksDbStore(options);
  if (!opened) {
    std::fprintf(stderr, "open: %s\n", opened.error().ToString().c_str());
    std::exit(1);
  }
  cmdq::Store& store = **opened;
  cmdq::IdGenerator ids;
  // Random bytes to slice payloads from: incompressible, without a generator per command.
  std::string random(size_t{8} << 20, '\0');
  std::mt19937_64 rng(42);
  for (char& c : random) c = static_cast<char>(rng());

  const size_t per_thread = commands / static_cast<size_t>(threads);
  std::atomic<uint64_t> synced_writes{0};
  std::atomic<bool> failed{false};
  const int64_t bytes_before = WriteBytes();
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937_64 pick(static_cast<uint64_t>(t));
      for (size_t done = 0; done < per_thread; done += kBatch) {
        cmdq::StoreBatch in;
        cmdq::StoreBatch out;
        for (size_t i = 0; i < kBatch; ++i) {
          auto c = std::make_shared<cmdq::Command>();
          c->id = ids.Next();
          c->type = "bench.noop";
          c->key = "user-" + std::to_string(pick() % 10'000);
          c->payload = random.substr(pick() % (random.size() - kPayloadBytes), kPayloadBytes);
          c->created_at_us = 1;
          const cmdq::CommandId id = c->id;
          in.Insert(std::move(c), State::kPending, 1);
          out.Apply({.id = id,
                     .from = State::kPending,
                     .to = State::kRunning,
                     .time_us = 2,
                     .attempt = 1,
                     .worker = "w",
                     .lease_expires_us = 3});
          out.Apply({.id = id,
                     .from = State::kRunning,
                     .to = State::kSucceeded,
                     .time_us = 4,
                     .attempt = 1,
                     .worker = "w",
                     .result = std::optional<std::string>("")});
        }
        for (cmdq::StoreBatch* b : {&in, &out}) {
          cmdq::Status s = store.Write(*b, {.sync = sync});
          if (!s.ok()) {
            std::fprintf(stderr, "write: %s\n", s.ToString().c_str());
            failed = true;
            return;
          }
          if (sync) ++synced_writes;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double written = static_cast<double>(WriteBytes() - bytes_before);
  opened->reset();
  if (failed) std::exit(1);
  const double n = static_cast<double>(per_thread * static_cast<size_t>(threads));
  RunResult r{.commands_per_s = n / seconds,
              .entries_per_command = static_cast<double>(EntriesWritten(path) - 3) / n,
              .bytes_per_command = written / n,
              .commands_per_fsync = sync ? n / static_cast<double>(synced_writes.load()) : 0};
  std::filesystem::remove_all(path);
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const size_t commands = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 300'000;
  const std::string dir = argc > 2 ? argv[2] : "/tmp";
  const int runs = argc > 3 ? std::atoi(argv[3]) : 3;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 2;
  const std::string path = dir + "/cmdq-store-write-bench-" + std::to_string(::getpid());
  std::printf(
      "%zu commands/run, %d writer threads, batches of %zu, 1 KB random payloads, "
      "median of %d runs\n",
      commands, threads, kBatch, runs);
  std::printf("%-8s %-6s %12s %10s %12s %12s\n", "sync", "index", "commands/s", "entries/c",
              "bytes/c", "c/fsync");
  for (bool sync : {true, false}) {
    for (bool index : {true, false}) {
      std::vector<double> rate, entries, bytes, per_fsync;
      for (int i = 0; i < runs; ++i) {
        RunResult r = RunOnce(path, commands, threads, sync, index);
        rate.push_back(r.commands_per_s);
        entries.push_back(r.entries_per_command);
        bytes.push_back(r.bytes_per_command);
        per_fsync.push_back(r.commands_per_fsync);
      }
      std::printf("%-8s %-6s %12.0f %10.2f %12.0f %12.0f\n", sync ? "synced" : "unsynced",
                  index ? "yes" : "no", Median(rate), Median(entries), Median(bytes),
                  Median(per_fsync));
      std::fflush(stdout);
    }
  }
  return 0;
}
