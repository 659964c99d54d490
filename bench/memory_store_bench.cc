// The memory store under the async bus's write pattern (WORKLOADS.md W0.async), without the
// rest of the bus: a producer thread creates 1 KB commands and inserts each with its own
// Write; a worker thread takes their ids and writes, per 128 commands, one batch of
// pending->running and running->succeeded transitions, as the bus's completion batches do.
// Retention is on (100,000 terminal records), so every command is also forgotten.
//
// Prints commands/s (wall), process CPU ns per command (getrusage; the worker sleeps when it
// runs dry, so idle time is not counted), and the wall time spent inside Store::Write per
// command (summed over both threads): the store's share. `--threads 1` runs the same work on
// one thread; `--store none` skips the store to show what the harness itself costs.
//
// Run: build/release/bench/cmdq_memory_store_bench [--commands N] [--threads 1|2]
//      [--store memory|none] [--retention N]
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cmdq/command_id.h"
#include "cmdq/store.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kBatchCommands = 128;
constexpr size_t kPayloadBytes = 1024;

struct Options {
  size_t commands = 2'000'000;
  int threads = 2;
  bool use_store = true;
  size_t retention = 100'000;
};

// A single-producer single-consumer ring of ids: the bus's hand-over without its costs.
class IdRing {
 public:
  bool Push(uint64_t id) {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_.load(std::memory_order_acquire) == kSize) return false;
    slots_[head & (kSize - 1)] = id;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }
  // Up to `max` ids into `out`; how many.
  size_t Pop(uint64_t* out, size_t max) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    const uint64_t head = head_.load(std::memory_order_acquire);
    const size_t n = std::min<uint64_t>(max, head - tail);
    for (size_t i = 0; i < n; ++i) out[i] = slots_[(tail + i) & (kSize - 1)];
    tail_.store(tail + n, std::memory_order_release);
    return n;
  }

 private:
  static constexpr size_t kSize = 1 << 16;
  std::vector<uint64_t> slots_ = std::vector<uint64_t>(kSize);
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
};

int64_t CpuNanos() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ns = [](const timeval& tv) { return tv.tv_sec * 1'000'000'000LL + tv.tv_usec * 1000LL; };
  return ns(usage.ru_utime) + ns(usage.ru_stime);
}

class Harness {
 public:
  explicit Harness(const Options& options)
      : options_(options),
        store_(options.use_store ? cmdq::NewMemoryStore({.max_terminal_records = options.retention})
                                 : nullptr),
        payload_(kPayloadBytes, 'x') {
    for (size_t i = 0; i < kPayloadBytes; ++i) payload_[i] = static_cast<char>('a' + i % 26);
  }

  // Creates and inserts one command; its id.
  uint64_t Submit() {
    auto command = std::make_shared<cmdq::Command>();
    command->id = ids_.Next();
    command->type = "cmdq.noop";
    command->key = "user-" + std::to_string(command->id.value() % 10'000);
    command->payload = payload_;
    const uint64_t id = command->id.value();
    insert_.Clear();
    insert_.Insert(std::move(command), cmdq::State::kPending, ++now_us_);
    Write(insert_);
    return id;
  }

  // The transitions of a completion batch: each command starts and succeeds.
  void Complete(const uint64_t* ids, size_t n) {
    complete_.Clear();
    const int64_t now = static_cast<int64_t>(n);
    for (size_t i = 0; i < n; ++i) {
      cmdq::Transition run{.id = cmdq::CommandId(ids[i]),
                           .from = cmdq::State::kPending,
                           .to = cmdq::State::kRunning,
                           .time_us = now,
                           .attempt = 1,
                           .worker = worker_};
      complete_.Apply(std::move(run));
      cmdq::Transition done{.id = cmdq::CommandId(ids[i]),
                            .from = cmdq::State::kRunning,
                            .to = cmdq::State::kSucceeded,
                            .time_us = now,
                            .attempt = 1,
                            .worker = worker_,
                            .result = std::string(),
                            .error = std::string()};
      complete_.Apply(std::move(done));
    }
    Write(complete_);
  }

  int64_t store_nanos() const { return store_nanos_.load(); }

 private:
  void Write(const cmdq::StoreBatch& batch) {
    if (!store_) return;
    const auto start = Clock::now();
    cmdq::Status s = store_->Write(batch, {});
    store_nanos_.fetch_add((Clock::now() - start).count(), std::memory_order_relaxed);
    if (!s.ok()) {
      std::fprintf(stderr, "write failed: %s\n", s.message().c_str());
      std::abort();
    }
  }

  const Options options_;
  std::unique_ptr<cmdq::Store> store_;
  cmdq::IdGenerator ids_;
  std::string payload_;
  std::string worker_ = "local-0";
  int64_t now_us_ = 0;
  // One batch per thread role, reused: the bus reuses its batches the same way.
  thread_local static cmdq::StoreBatch insert_;
  thread_local static cmdq::StoreBatch complete_;
  std::atomic<int64_t> store_nanos_{0};
};

thread_local cmdq::StoreBatch Harness::insert_;
thread_local cmdq::StoreBatch Harness::complete_;

void RunTwoThreads(Harness& harness, size_t commands) {
  IdRing ring;
  std::thread worker([&] {
    std::vector<uint64_t> ids(kBatchCommands);
    for (size_t done = 0; done < commands;) {
      const size_t n = ring.Pop(ids.data(), kBatchCommands);
      if (n == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
      harness.Complete(ids.data(), n);
      done += n;
    }
  });
  for (size_t i = 0; i < commands; ++i) {
    const uint64_t id = harness.Submit();
    while (!ring.Push(id)) std::this_thread::yield();
  }
  worker.join();
}

void RunOneThread(Harness& harness, size_t commands) {
  std::vector<uint64_t> ids(kBatchCommands);
  for (size_t done = 0; done < commands;) {
    const size_t n = std::min(kBatchCommands, commands - done);
    for (size_t i = 0; i < n; ++i) ids[i] = harness.Submit();
    harness.Complete(ids.data(), n);
    done += n;
  }
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--commands") {
      options.commands = std::stoull(value);
    } else if (flag == "--threads") {
      options.threads = std::stoi(value);
    } else if (flag == "--store") {
      options.use_store = value != "none";
    } else if (flag == "--retention") {
      options.retention = std::stoull(value);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  Harness harness(options);
  const int64_t cpu_start = CpuNanos();
  const auto wall_start = Clock::now();
  if (options.threads == 1) {
    RunOneThread(harness, options.commands);
  } else {
    RunTwoThreads(harness, options.commands);
  }
  const double wall_s = std::chrono::duration<double>(Clock::now() - wall_start).count();
  const double n = static_cast<double>(options.commands);
  const double cpu_ns = static_cast<double>(CpuNanos() - cpu_start) / n;
  std::printf(
      "threads=%d store=%s commands=%zu: %.0f commands/s, cpu %.0f ns/command, "
      "in Write %.0f ns/command\n",
      options.threads, options.use_store ? "memory" : "none", options.commands, n / wall_s, cpu_ns,
      static_cast<double>(harness.store_nanos()) / n);
  return 0;
}
