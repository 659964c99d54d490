#include "load.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "latency_histogram.h"
#include "message.h"
#include "precise_sleep.h"
#include "workload_data.h"

namespace cmdq::peers {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SleepUntilNs(int64_t ns) {
  std::this_thread::sleep_until(
      std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns)));
}

// What the threads of one run share.
class RunState {
 public:
  RunState(const LoadOptions& options, uint64_t total)
      : options_(options),
        total_(total),
        done_flags_(total),
        payloads_(1024, options.payload_bytes),
        keys_(app::UserKeys(options.users)) {}

  const LoadOptions& options() const { return options_; }
  uint64_t total() const { return total_; }

  std::string Body(uint64_t seq, int64_t submit_ns, app::FastRandom& random) const {
    return EncodeMessage({.seq = seq, .submit_ns = submit_ns}, keys_[random.Below(keys_.size())],
                         payloads_.At(random.Next()));
  }

  void Sent(uint64_t n, int64_t first_ns) {
    int64_t seen = first_submit_ns_.load();
    while (first_ns < seen && !first_submit_ns_.compare_exchange_weak(seen, first_ns)) {
    }
    sent_.fetch_add(n, std::memory_order_release);
  }

  void Done(std::string_view body) {
    const int64_t now = NowNs();
    const auto header = DecodeHeader(body);
    if (!header || header->seq >= total_) {
      foreign_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (done_flags_[header->seq].exchange(1, std::memory_order_relaxed) != 0) {
      duplicates_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    histogram_.Record(now - header->submit_ns);
    int64_t last = last_done_ns_.load(std::memory_order_relaxed);
    while (now > last && !last_done_ns_.compare_exchange_weak(last, now)) {
    }
    done_.fetch_add(1, std::memory_order_release);
  }

  void Failed(const char* what, const Status& status) {
    errors_.fetch_add(1);
    std::lock_guard lock(mutex_);
    if (first_error_.empty()) {
      first_error_ = std::string(what) + ": " + status.ToString();
      std::fprintf(stderr, "cmdq_peer_bench: %s\n", first_error_.c_str());
    }
  }

  // Open loop: every command not done enters the histogram with its age at `end_ns`.
  void CensorUnfinished(int64_t start_ns, int64_t end_ns) {
    for (uint64_t seq = 0; seq < total_; ++seq) {
      if (done_flags_[seq].load(std::memory_order_relaxed) != 0) continue;
      histogram_.Record(end_ns - DueNs(start_ns, seq));
    }
  }

  int64_t DueNs(int64_t start_ns, uint64_t seq) const {
    return start_ns + static_cast<int64_t>(static_cast<double>(seq) * 1e9 / options_.rate);
  }

  std::atomic<uint64_t> claimed{0};
  std::atomic<bool> stop{false};

  uint64_t sent() const { return sent_.load(std::memory_order_acquire); }
  uint64_t done() const { return done_.load(std::memory_order_acquire); }
  uint64_t duplicates() const { return duplicates_.load(); }
  uint64_t foreign() const { return foreign_.load(); }
  uint64_t errors() const { return errors_.load(); }
  int64_t first_submit_ns() const { return first_submit_ns_.load(); }
  int64_t last_done_ns() const { return last_done_ns_.load(); }
  app::HistogramSnapshot Latency() const { return histogram_.Snapshot(); }

 private:
  const LoadOptions& options_;
  const uint64_t total_;
  std::vector<std::atomic<uint8_t>> done_flags_;
  const app::PayloadPool payloads_;
  const std::vector<std::string> keys_;
  app::LatencyHistogram histogram_;
  std::atomic<uint64_t> sent_{0}, done_{0}, duplicates_{0}, foreign_{0}, errors_{0};
  std::atomic<int64_t> first_submit_ns_{std::numeric_limits<int64_t>::max()};
  std::atomic<int64_t> last_done_ns_{0};
  std::mutex mutex_;
  std::string first_error_;
};

// W1.sat: batches from the budget, each after room under the in-flight bound.
void ClosedLoopProducer(RunState& run, Producer& producer, int index, int batch, int64_t stop_ns) {
  app::FastRandom random(1000 + index);
  std::vector<std::string> bodies;
  while (!run.stop.load() && NowNs() < stop_ns) {
    const uint64_t first = run.claimed.fetch_add(batch);
    if (first >= run.total()) break;
    const uint64_t n = std::min<uint64_t>(batch, run.total() - first);
    while (run.sent() + n > run.done() + run.options().in_flight && !run.stop.load()) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    const int64_t now = NowNs();
    bodies.clear();
    for (uint64_t i = 0; i < n; ++i) bodies.push_back(run.Body(first + i, now, random));
    if (Status status = producer.Send(bodies); !status.ok()) {
      run.Failed("send", status);
      return;
    }
    run.Sent(n, now);
  }
  if (Status status = producer.Drain(); !status.ok()) run.Failed("drain", status);
}

// W1.10k: producer `index` of `count` sends commands index, index + count, ... when due.
void OpenLoopProducer(RunState& run, Producer& producer, int index, int count, int batch,
                      int64_t start_ns, int64_t stop_ns) {
  app::UsePreciseSleeps();
  app::FastRandom random(1000 + index);
  std::vector<std::string> bodies;
  uint64_t next = index;
  while (next < run.total() && !run.stop.load()) {
    const int64_t now = NowNs();
    if (now >= stop_ns) break;
    if (run.DueNs(start_ns, next) > now) {
      SleepUntilNs(run.DueNs(start_ns, next));
      continue;
    }
    bodies.clear();
    const uint64_t first = next;
    while (next < run.total() && bodies.size() < static_cast<size_t>(batch) &&
           run.DueNs(start_ns, next) <= now) {
      bodies.push_back(run.Body(next, run.DueNs(start_ns, next), random));
      next += count;
    }
    if (Status status = producer.Send(bodies); !status.ok()) {
      run.Failed("send", status);
      return;
    }
    run.Sent(bodies.size(), run.DueNs(start_ns, first));
  }
  if (Status status = producer.Drain(); !status.ok()) run.Failed("drain", status);
}

void ConsumerLoop(RunState& run, Consumer& consumer) {
  const Consumer::OnDone on_done = [&run](std::string_view body) { run.Done(body); };
  while (!run.stop.load()) {
    auto taken = consumer.TakeBatch(on_done);
    if (!taken) {
      run.Failed("take", taken.error());
      return;
    }
  }
}

app::BenchResult MakeResult(const RunState& run, const Peer& peer, const PeerOptions& peer_options,
                            const LoadOptions& options) {
  app::BenchResult result;
  result.workload = options.workload;
  result.mode = peer.Settings();
  result.durability = peer_options.durability == Durability::kD1 ? "D1" : "D0";
  result.transport = options.system;
  result.commands = run.done();
  const double seconds =
      run.done() == 0 ? 0 : static_cast<double>(run.last_done_ns() - run.first_submit_ns()) / 1e9;
  result.seconds = seconds;
  result.throughput_per_s = seconds > 0 ? static_cast<double>(run.done()) / seconds : 0;
  result.latency_us = app::LatencyFrom(run.Latency());
  result.params.Add("producers", int64_t{options.producers});
  result.params.Add("workers", int64_t{options.consumers});
  result.params.Add("batch", int64_t{peer_options.batch});
  result.params.Add("window", int64_t{peer_options.window});
  if (options.workload == "W1.sat") {
    result.params.Add("in_flight", static_cast<int64_t>(options.in_flight));
  } else {
    result.params.Add("rate", options.rate);
  }
  result.params.Add("payload_bytes", static_cast<int64_t>(options.payload_bytes));
  result.params.Add("users", static_cast<int64_t>(options.users));
  result.extra.Add("offered", static_cast<int64_t>(run.total()));
  result.extra.Add("sent", static_cast<int64_t>(run.sent()));
  // W1.10k: every command offered counts, sent or not; W1.sat: what was sent.
  const uint64_t owed = options.workload == "W1.10k" ? run.total() : run.sent();
  result.extra.Add("unfinished", static_cast<int64_t>(owed - std::min(owed, run.done())));
  result.extra.Add("duplicates", static_cast<int64_t>(run.duplicates()));
  result.extra.Add("errors", static_cast<int64_t>(run.errors()));
  app::FillMachine(result);
  result.machine_note = "server and load generator share the machine (loopback)";
  return result;
}

}  // namespace

Result<app::BenchResult> RunW1(Peer& peer, const PeerOptions& peer_options,
                               const LoadOptions& options) {
  const bool open_loop = options.workload == "W1.10k";
  const uint64_t total =
      open_loop ? static_cast<uint64_t>(options.rate * options.seconds) : options.commands;
  RunState run(options, total);

  std::vector<std::unique_ptr<Producer>> producers;
  std::vector<std::unique_ptr<Consumer>> consumers;
  for (int i = 0; i < options.consumers; ++i) {
    auto consumer = peer.NewConsumer();
    if (!consumer) return Error(consumer.error());
    consumers.push_back(std::move(*consumer));
  }
  for (int i = 0; i < options.producers; ++i) {
    auto producer = peer.NewProducer();
    if (!producer) return Error(producer.error());
    producers.push_back(std::move(*producer));
  }

  std::vector<std::thread> consumer_threads;
  for (auto& consumer : consumers) {
    consumer_threads.emplace_back([&run, &consumer] { ConsumerLoop(run, *consumer); });
  }
  const int64_t start_ns = NowNs();
  const int64_t submit_ns = static_cast<int64_t>(options.seconds * 1e9);
  const int64_t drain_ns = static_cast<int64_t>(options.drain_seconds * 1e9);
  std::vector<std::thread> producer_threads;
  for (int i = 0; i < options.producers; ++i) {
    Producer& producer = *producers[i];
    producer_threads.emplace_back([&, i] {
      if (open_loop) {
        OpenLoopProducer(run, producer, i, options.producers, peer_options.batch, start_ns,
                         start_ns + submit_ns + drain_ns);
      } else {
        ClosedLoopProducer(run, producer, i, peer_options.batch, start_ns + submit_ns);
      }
    });
  }
  for (auto& thread : producer_threads) thread.join();

  // Everything sent is done, or the drain time is over (W1.10k: counted from when the last
  // command was due, so a system that fell behind gets the same grace as one that did not).
  const int64_t end_ns = (open_loop ? start_ns + submit_ns : NowNs()) + drain_ns;
  while (run.done() < run.sent() && NowNs() < end_ns && run.errors() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int64_t stopped_ns = NowNs();
  run.stop.store(true);
  for (auto& thread : consumer_threads) thread.join();
  if (open_loop) run.CensorUnfinished(start_ns, stopped_ns);
  return MakeResult(run, peer, peer_options, options);
}

}  // namespace cmdq::peers
