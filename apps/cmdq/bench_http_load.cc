#include "bench_http_load.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

#include "cmdq/client.h"
#include "precise_sleep.h"
#include "submit_refusal.h"

namespace cmdq::app {
namespace {

using std::chrono::milliseconds;

int64_t SteadyNs(SteadyClock::time_point t) { return t.time_since_epoch().count(); }

std::unique_ptr<Client> Connect(const HttpLoadPlan& plan) {
  ClientOptions options;
  options.target = plan.target;
  auto client = Client::Create(options);
  return client ? std::move(*client) : nullptr;  // the target was checked before the run
}

Command Stamped(const HttpLoadPlan& plan, const std::string& key, const std::string& payload,
                int64_t stamp_ns) {
  Command c{.type = plan.type, .key = key, .payload = payload};
  if (c.payload.size() >= sizeof stamp_ns)
    std::memcpy(c.payload.data(), &stamp_ns, sizeof stamp_ns);
  return c;
}

int64_t StampOf(const std::string& payload) {
  int64_t stamp = 0;
  if (payload.size() >= sizeof stamp) std::memcpy(&stamp, payload.data(), sizeof stamp);
  return stamp;
}

// Submits `batch`; whether the server answered (its items may still be refused).
bool Submit(Client& client, std::vector<Command> batch, HttpTally& tally) {
  const uint64_t n = batch.size();
  const auto sent = SteadyClock::now();
  auto results = client.SubmitBatch(std::move(batch));
  tally.submit_rtt.Record((SteadyClock::now() - sent).count());
  tally.requests.fetch_add(1, std::memory_order_relaxed);
  uint64_t ok = 0;
  if (results) {
    for (const Result<CommandId>& r : *results) ok += r.has_value();
  } else if (IsTransientSubmitError(results.error())) {
    fmt::print(stderr, "cmdq bench: submit: {}\n", results.error().ToString());  // and go on
  } else {
    const Status& error = results.error();
    tally.Refuse(
        Status(error.code(),
               fmt::format("the server refused a submit of {} commands: {}{}", n, error.message(),
                           error.code() == StatusCode::kResourceExhausted
                               ? " (see --batch and the server's limits)"
                               : "")));
  }
  tally.acknowledged.fetch_add(ok, std::memory_order_release);
  tally.submit_errors.fetch_add(n - ok, std::memory_order_relaxed);
  return results.has_value();
}

}  // namespace

void RunClosedLoopProducer(const HttpLoadPlan& plan, int index, const LoadData& data,
                           HttpTally& tally) {
  auto client = Connect(plan);
  if (!client) return;
  FastRandom random(3000 + index);
  uint64_t sequence = static_cast<uint64_t>(index) << 32;
  for (uint64_t n; !tally.refused.load() && (n = plan.loop.Claim(tally.claimed)) != 0;) {
    plan.loop.AwaitRoom(tally.acknowledged, tally.done, n);
    const int64_t now = SteadyNs(SteadyClock::now());
    std::vector<Command> batch;
    batch.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      batch.push_back(Stamped(plan, data.keys[random.Below(data.keys.size())],
                              data.payloads.At(sequence++), now));
    }
    Submit(*client, std::move(batch), tally);
  }
}

void RunOpenLoopProducer(const HttpLoadPlan& plan, int index, const LoadData& data,
                         HttpTally& tally) {
  UsePreciseSleeps();
  auto client = Connect(plan);
  if (!client) return;
  FastRandom random(4000 + index);
  const double my_rate = plan.rate / plan.producers;
  const double ns_per_command = 1e9 / my_rate;
  const int64_t start = SteadyNs(plan.start);
  // When this producer's k-th command is due (its stamp: latency counts from there).
  auto due_at = [&](uint64_t k) {
    return plan.start + std::chrono::nanoseconds(static_cast<int64_t>(double(k) * ns_per_command));
  };
  // Between sends the producer sleeps until its next command is due, but at least this
  // long after the last send, so that at high rates (W2) commands still go in small
  // batches. Well under 10k/s's interval per producer (200 µs): a producer that fell
  // behind catches up at once, as the peers' driver (no gap) does.
  constexpr auto kMinGap = std::chrono::microseconds(50);
  // Every command due before the stop is sent, also one the machine let fall behind:
  // what is offered is the rate times the seconds, not what a late thread got out,
  // however long a slow machine takes. Only a server that has not answered for kCatchUp
  // after the stop, or is still behind kCatchUpLimit after it, leaves the rest unsent.
  constexpr auto kCatchUp = std::chrono::seconds(5);
  constexpr auto kCatchUpLimit = std::chrono::seconds(60);
  // Of the run's commands 0, 1, 2... this producer sends index, index + producers...
  const auto offered = static_cast<uint64_t>(
      std::llround(plan.rate * double(SteadyNs(plan.loop.stop_submitting) - start) / 1e9));
  const uint64_t my_commands = (offered + plan.producers - 1 - index) / plan.producers;
  uint64_t sent = 0;
  auto last_send = SteadyClock::now();
  auto last_answer = last_send;
  std::vector<Command> batch;
  for (;;) {
    const auto now = SteadyClock::now();
    const bool given_up = now >= plan.loop.stop_submitting &&
                          (now - std::max(last_answer, plan.loop.stop_submitting) >= kCatchUp ||
                           now - plan.loop.stop_submitting >= kCatchUpLimit);
    if (sent >= my_commands || given_up || tally.refused.load()) return;
    const auto due = std::min(
        my_commands, static_cast<uint64_t>(double(SteadyNs(now) - start) / ns_per_command) + 1);
    if (due <= sent) {
      std::this_thread::sleep_until(std::max(due_at(sent), last_send + kMinGap));
      continue;
    }
    last_send = now;
    const uint64_t n = std::min<uint64_t>(due - sent, plan.loop.batch);
    const auto oldest_due = due_at(sent);
    batch.clear();
    batch.reserve(n);
    for (uint64_t i = 0; i < n; ++i, ++sent) {
      // The n-th command of all producers together belongs to user n % users (W2).
      const uint64_t global = sent * plan.producers + index;
      const std::string& key = plan.round_robin ? data.keys[global % data.keys.size()]
                                                : data.keys[random.Below(data.keys.size())];
      batch.push_back(Stamped(plan, key, data.payloads.At(global), SteadyNs(due_at(sent))));
    }
    // How late the producer itself is (the machine did not run it in time): the part of
    // submit->done that no server can take back.
    tally.send_late.Record((SteadyClock::now() - oldest_due).count());
    if (Submit(*client, std::move(batch), tally)) last_answer = SteadyClock::now();
  }
}

// One request per batch: the outcomes of the last batch and the lease of the next go
// together (POST /v1/completions with a lease).
void RunHttpWorker(const HttpLoadPlan& plan, int index, HttpTally& tally) {
  auto client = Connect(plan);
  if (!client) return;
  LeaseOptions lease{.types = {plan.type},
                     .max = static_cast<uint32_t>(std::min<uint64_t>(plan.loop.batch, 1000)),
                     .wait = milliseconds(200),
                     .worker = fmt::format("bench-worker-{}", index)};
  std::vector<WorkerOutcome> outcomes;
  std::vector<int64_t> stamps;
  int64_t leased_at = 0;
  // Counts the answers to `outcomes`, acknowledged at `now`.
  auto settle = [&](const std::vector<Status>& results, int64_t now) {
    if (outcomes.empty()) return;
    uint64_t ok = 0;
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].ok()) continue;
      tally.latency.Record(now - stamps[i]);
      tally.completion_rtt.Record(now - leased_at);
      ++ok;
    }
    int64_t last = tally.last_done_ns.load(std::memory_order_relaxed);
    while (last < now && !tally.last_done_ns.compare_exchange_weak(last, now)) {
    }
    tally.outcome_errors.fetch_add(outcomes.size() - ok, std::memory_order_relaxed);
    tally.done.fetch_add(ok, std::memory_order_release);
  };
  while (!tally.stop_workers.load(std::memory_order_acquire)) {
    // With outcomes, take what is ready and no more: a long-poll would hold back their
    // acknowledgement. Without, wait for work.
    lease.wait = outcomes.empty() ? milliseconds(200) : milliseconds(0);
    auto answer = client->ReportBatchAndLease(outcomes, lease);
    tally.requests.fetch_add(1, std::memory_order_relaxed);
    const int64_t now = SteadyNs(SteadyClock::now());
    if (!answer) {
      // Neither the outcomes nor the lease are known to have landed: the leases run out
      // and their commands run again.
      tally.outcome_errors.fetch_add(outcomes.size(), std::memory_order_relaxed);
      tally.lease_errors.fetch_add(1, std::memory_order_relaxed);
      outcomes.clear();
      std::this_thread::sleep_for(milliseconds(10));
      continue;
    }
    settle(answer->outcomes, now);
    if (!answer->lease.ok()) tally.lease_errors.fetch_add(1, std::memory_order_relaxed);
    outcomes.clear();
    stamps.clear();
    leased_at = now;
    for (LeasedCommand& l : answer->leased) {
      stamps.push_back(StampOf(l.record.command.payload));
      tally.to_leased.Record(leased_at - stamps.back());
      outcomes.push_back({.id = l.record.command.id, .lease = std::move(l.lease)});
    }
  }
  if (outcomes.empty()) return;
  // Told to stop while holding a batch: finish it without leasing more.
  auto results = client->ReportBatch(outcomes);
  tally.requests.fetch_add(1, std::memory_order_relaxed);
  if (results) {
    settle(*results, SteadyNs(SteadyClock::now()));
  } else {
    tally.outcome_errors.fetch_add(outcomes.size(), std::memory_order_relaxed);
  }
}

}  // namespace cmdq::app
