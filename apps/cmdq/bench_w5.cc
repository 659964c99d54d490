// W5 in-process: the retention workload (WORKLOADS.md W5), durable mode.
//
// 2 producers submit 1 KB commands (fresh random bytes each) over 10,000 keys with SubmitBatch
// (closed loop: at most --in-flight submitted but not done); 2 workers run a no-op
// handler. Meanwhile a RetentionJob (2 s retention, every 0.5 s) archives terminal
// commands to zstd files and deletes them from the store, and a sampler records the
// bytes of the store's directory and the archive directory every 0.5 s. The run ends
// when every command is archived, or 60 s after the last completion.
//
// Throughput is intake (first submit to last completion). The retention figures come
// from the job: archive = scanning the store and writing files, delete = the store's
// DeleteRange, each in commands per second of the job's own time. Read-back: one sampled
// command is looked up in its archive file and compared field by field with what was
// submitted; every file is read in full to count what was archived.
#include "bench_w5.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "cmdq/archive.h"
#include "cmdq/bus.h"
#include "cmdq/rocksdb_store.h"
#include "latency_histogram.h"
#include "progress_line.h"
#include "scratch_dir.h"
#include "workload_data.h"

namespace cmdq::app {
namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr char kType[] = "bench.noop";
constexpr int kProducers = 2;
constexpr uint32_t kWorkers = 2;
constexpr auto kRetention = 2s;
constexpr auto kInterval = 500ms;
constexpr auto kSamplePeriod = 500ms;

struct Tally {
  std::atomic<uint64_t> claimed{0};
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<uint64_t> submit_errors{0};
  std::atomic<uint64_t> done{0};
  std::atomic<int64_t> last_done_ns{0};
  LatencyHistogram latency;
  std::mutex sample_mu;
  Command sample;  // guarded by sample_mu: the command whose archive copy is checked
};

void OnFinished(Tally& t, const Completion& c) {
  if (c.state == State::kFailed) return;
  t.latency.Record(c.finished_steady_ns - c.submitted_steady_ns);
  int64_t last = t.last_done_ns.load(std::memory_order_relaxed);
  while (last < c.finished_steady_ns &&
         !t.last_done_ns.compare_exchange_weak(last, c.finished_steady_ns)) {
  }
  t.done.fetch_add(1, std::memory_order_release);
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  // Files come and go while RocksDB flushes and compacts: errors skip the file.
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const uint64_t n = it->file_size(size_ec);
      if (!size_ec) total += n;
    }
  }
  return total;
}

struct Samples {
  std::vector<uint64_t> store;
  std::vector<uint64_t> archive;
};

// A fresh random payload per command. The shared PayloadPool repeats its 1,024 payloads,
// and zstd finds repeats within a frame: the archive's size must be measured on
// incompressible data, as WORKLOADS.md asks.
void FillPayload(FastRandom& random, size_t bytes, std::string& out) {
  out.resize(bytes);
  for (size_t i = 0; i < bytes; i += 8) {
    const uint64_t v = random.Next();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, bytes - i));
  }
}

void Produce(Bus& bus, uint64_t commands, uint64_t batch, uint64_t in_flight, int index,
             size_t payload_bytes, const std::vector<std::string>& keys, Tally& t) {
  FastRandom random(5000 + index);
  for (;;) {
    const uint64_t first = t.claimed.fetch_add(batch);
    if (first >= commands) return;
    const uint64_t n = std::min(batch, commands - first);
    while (t.acknowledged.load(std::memory_order_acquire) + n >
           t.done.load(std::memory_order_acquire) + in_flight) {
      std::this_thread::sleep_for(50us);
    }
    std::vector<Command> cmds(n);
    for (Command& c : cmds) {
      c.type = kType;
      c.key = keys[random.Below(keys.size())];
      FillPayload(random, payload_bytes, c.payload);
    }
    // The sample: the first command of the batch that holds the run's middle command.
    const bool sample = first <= commands / 2 && commands / 2 < first + n;
    Command copy = sample ? cmds.front() : Command{};
    std::vector<Result<CommandId>> ids = bus.SubmitBatch(std::move(cmds));
    uint64_t ok = 0;
    for (const auto& r : ids) ok += r.has_value();
    if (sample && ids.front().has_value()) {
      copy.id = *ids.front();
      std::lock_guard lock(t.sample_mu);
      t.sample = std::move(copy);
    }
    t.acknowledged.fetch_add(ok, std::memory_order_release);
    t.submit_errors.fetch_add(n - ok, std::memory_order_relaxed);
  }
}

struct Readback {
  uint64_t archived = 0;  // records in all files (a range archived twice counts twice)
  uint64_t files = 0;
  uint64_t bytes = 0;
  bool sample_ok = false;
  Status error;
};

Readback ReadBack(const std::string& archive_dir, const Command& sample) {
  Readback out;
  auto list = ListArchives(archive_dir, /*verify=*/false);
  if (!list) {
    out.error = list.error();
    return out;
  }
  for (const ArchiveInfo& info : *list) {
    ++out.files;
    out.bytes += info.file_bytes;
    auto read = ReadArchive(info.path, [&](const StoredCommand& s) {
      ++out.archived;
      const Command& c = s.record.command;
      if (c.id == sample.id) {
        out.sample_ok = c.type == sample.type && c.key == sample.key &&
                        c.payload == sample.payload && s.record.state == State::kSucceeded &&
                        !s.audit.empty() && s.audit.back().to == State::kSucceeded;
      }
      return Status::Ok();
    });
    if (!read) out.error = read.error();
  }
  return out;
}

}  // namespace

Result<BenchResult> RunW5(const BenchOptions& options) {
  if (options.mode != "durable") {
    return Error(Status::InvalidArgument("mode", "W5 runs in durable mode only"));
  }
  const uint64_t commands = options.commands ? options.commands : kW5DefaultCommands;
  auto dir = ScratchDir::Make(options.data_dir.empty() ? "" : options.data_dir + "/store");
  if (!dir) return Error(dir.error());
  const std::string store_dir = (*dir)->store_path();
  const std::string archive_dir =
      (std::filesystem::path(store_dir).parent_path() / "archive").string();

  RocksDbStoreOptions so;
  so.path = store_dir;
  so.index_key_and_type = options.store_index;
  auto store = OpenRocksDbStore(std::move(so));
  if (!store) return Error(store.error());
  Store* raw_store = store->get();  // owned by the bus; the job stops before the bus goes

  auto tally = std::make_unique<Tally>();
  BusOptions bo;
  bo.mode = Mode::kDurable;
  bo.workers = kWorkers;
  bo.partitions = options.partitions;
  bo.on_finished = [t = tally.get()](const Completion& c) { OnFinished(*t, c); };
  BusDeps deps;
  deps.store = std::move(*store);
  auto bus = Bus::Create(std::move(bo), std::move(deps));
  if (!bus) return Error(bus.error());
  Handler noop{.execute = [](const HandlerContext&) -> Result<std::string> { return ""; }};
  if (Status s = (*bus)->Register(kType, std::move(noop)); !s.ok()) return Error(s);
  if (Status s = (*bus)->Start(); !s.ok()) return Error(s);

  RetentionOptions ro;
  ro.archive_dir = archive_dir;
  ro.retention = kRetention;
  ro.interval = kInterval;
  RetentionJob job(*raw_store, ro, *SystemClock());
  if (Status s = job.Start(); !s.ok()) return Error(s);

  Samples samples;
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling.load()) {
      samples.store.push_back(DirBytes(store_dir));
      samples.archive.push_back(DirBytes(archive_dir));
      std::this_thread::sleep_for(kSamplePeriod);
    }
  });

  const std::vector<std::string> keys = UserKeys(options.users);
  const auto start = SteadyClock::now();
  ProgressLine progress([&] {
    return fmt::format("W5 done {} archived {}",
                       RenderBar(double(tally->done.load()) / commands, 20),
                       RenderBar(double(job.Totals().archived) / commands, 20));
  });
  if (!options.json) progress.Start();
  std::vector<std::thread> producers;
  const uint64_t in_flight = std::max(options.in_flight, options.batch);
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      Produce(**bus, commands, options.batch, in_flight, p, options.payload_bytes, keys, *tally);
    });
  }
  for (std::thread& t : producers) t.join();
  const auto deadline = SteadyClock::now() + 120s;
  while (tally->done.load() < tally->acknowledged.load() && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  const auto all_done = SteadyClock::now();
  while (job.Totals().archived < tally->done.load() && SteadyClock::now() < all_done + 60s) {
    std::this_thread::sleep_for(10ms);
  }
  const double drain_s = std::chrono::duration<double>(SteadyClock::now() - all_done).count();
  job.Stop();
  if (!options.json) progress.Stop();
  sampling.store(false);
  sampler.join();
  const ArchiveReport totals = job.Totals();
  const Status job_error = job.LastError();
  (*bus)->Stop(StopMode::kNow);
  bus->reset();
  const uint64_t store_final = DirBytes(store_dir);

  Command sample;
  {
    std::lock_guard lock(tally->sample_mu);
    sample = tally->sample;
  }
  const Readback back = ReadBack(archive_dir, sample);
  if (!back.error.ok()) return Error(back.error);
  if (!job_error.ok()) return Error(job_error);

  const uint64_t done = tally->done.load();
  BenchResult r{.workload = "W5", .mode = "durable"};
  r.durability = "D1";
  r.transport = "inproc";
  r.commands = done;
  r.seconds = (tally->last_done_ns.load() - start.time_since_epoch().count()) / 1e9;
  r.throughput_per_s = done / r.seconds;
  r.latency_us = LatencyFrom(tally->latency.Snapshot());
  r.params.Add("producers", int64_t{kProducers});
  r.params.Add("workers", int64_t{kWorkers});
  r.params.Add("batch", static_cast<int64_t>(options.batch));
  r.params.Add("in_flight", static_cast<int64_t>(in_flight));
  r.params.Add("payload_bytes", static_cast<int64_t>(options.payload_bytes));
  r.params.Add("users", static_cast<int64_t>(options.users));
  r.params.Add("retention_ms", int64_t{std::chrono::milliseconds(kRetention).count()});
  r.params.Add("retention_interval_ms", int64_t{std::chrono::milliseconds(kInterval).count()});
  r.params.Add("store_index", int64_t{options.store_index});
  const auto [smin, smax] = std::minmax_element(samples.store.begin(), samples.store.end());
  r.extra.Add("store_bytes_min", static_cast<int64_t>(samples.store.empty() ? 0 : *smin));
  r.extra.Add("store_bytes_max", static_cast<int64_t>(samples.store.empty() ? 0 : *smax));
  r.extra.Add("store_bytes_final", static_cast<int64_t>(store_final));
  r.extra.Add("disk_samples", static_cast<int64_t>(samples.store.size()));
  r.extra.Add("disk_sample_period_ms", int64_t{std::chrono::milliseconds(kSamplePeriod).count()});
  r.extra.Add("archive_files", static_cast<int64_t>(back.files));
  r.extra.Add("archive_bytes", static_cast<int64_t>(back.bytes));
  r.extra.Add("archived", static_cast<int64_t>(totals.archived));
  if (totals.archived > 0) {
    r.extra.Add("archive_bytes_per_command", double(totals.archive_bytes) / totals.archived);
    r.extra.Add("archive_commands_per_s", totals.archived / totals.archive_seconds);
    r.extra.Add("delete_commands_per_s", totals.archived / totals.delete_seconds);
  }
  r.extra.Add("drain_seconds", drain_s);
  r.extra.Add("readback_ok", int64_t{back.sample_ok});
  // Acknowledged commands that are in no archive file (nor, since the run waits for all,
  // still in the store): must be 0.
  r.extra.Add("lost", static_cast<int64_t>(tally->acknowledged.load() -
                                           std::min(back.archived, tally->acknowledged.load())));
  r.extra.Add("submit_errors", static_cast<int64_t>(tally->submit_errors.load()));
  FillMachine(r);
  return r;
}

}  // namespace cmdq::app
