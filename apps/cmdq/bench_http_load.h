// The load of the HTTP benchmarks (W1.sat, W1.10k, W2 with --transport http): producer
// and worker threads, each with its own Client (one keep-alive connection each), and
// what they count.
//
// How submit->done is measured: each command's payload starts with 8 bytes holding the
// steady-clock time at which it was submitted: just before its batch's request is sent
// (closed loop), or the time the schedule meant to send it (open loop, so that a server
// that falls behind shows in the latency instead of slowing the offer: no coordinated
// omission). The workers run in the same process and read that stamp back from the
// leased payload; a command is done when the server has acknowledged its completion
// (POST /v1/completions answered: in D1 the outcome is on disk). The rest of the
// payload stays the pool's random bytes (incompressible, sent as payload_b64).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "closed_loop.h"
#include "cmdq/status.h"
#include "latency_histogram.h"
#include "workload_data.h"

namespace cmdq::app {

using SteadyClock = std::chrono::steady_clock;

struct HttpTally {
  std::atomic<uint64_t> claimed{0};       // closed loop: commands taken from the budget
  std::atomic<uint64_t> acknowledged{0};  // submits the server answered with an id
  std::atomic<uint64_t> submit_errors{0};
  std::atomic<uint64_t> done{0};  // completions the server acknowledged
  std::atomic<uint64_t> outcome_errors{0};
  std::atomic<uint64_t> lease_errors{0};
  std::atomic<uint64_t> requests{0};  // HTTP requests of producers and workers
  std::atomic<int64_t> last_done_ns{0};
  std::atomic<bool> stop_workers{false};
  // A submit the server refused outright (a batch over its limit, an unknown type, no
  // access): retrying cannot help, so the producers stop and the run fails with it.
  void Refuse(Status why) {
    std::lock_guard lock(refusal_mu);
    if (refused.exchange(true)) return;
    refusal = std::move(why);
  }
  Status Refusal() const {
    std::lock_guard lock(refusal_mu);
    return refusal;
  }
  std::atomic<bool> refused{false};
  LatencyHistogram latency;
  // Where submit->done goes, per stage (per command; submit_rtt per request):
  LatencyHistogram send_late;       // open loop: a batch's oldest command, due to sent
  LatencyHistogram submit_rtt;      // a producer's submit request, sent to answered
  LatencyHistogram to_leased;       // submitted (its stamp) to a worker holding its lease
  LatencyHistogram completion_rtt;  // leased to its completion acknowledged

 private:
  mutable std::mutex refusal_mu;
  Status refusal;
};

struct HttpLoadPlan {
  std::string target;  // http://host:port
  std::string type;    // the remote type the workers lease
  // The closed loop's budget, in-flight bound and end of submitting; its batch is also
  // the open loop's and the workers' most commands per request.
  ClosedLoop loop;
  double rate = 0;           // open loop: commands/s offered by all producers; 0 = closed
  bool round_robin = false;  // open loop: key n % users (W2: each user 1 cmd/s)
  int producers = 2;
  SteadyClock::time_point start;
};

// The data producers draw from: payloads and user keys.
struct LoadData {
  PayloadPool payloads;
  std::vector<std::string> keys;
};

// Submits batches while the budget lasts and in-flight room allows (WORKLOADS.md W1.sat,
// decision 0010's closed loop).
void RunClosedLoopProducer(const HttpLoadPlan& plan, int index, const LoadData& data,
                           HttpTally& tally);
// Offers plan.rate / plan.producers commands/s until plan.stop_submitting, each command
// stamped with when it was due and what is due sent in one batch: its share of
// round(rate x seconds), late ones while the server keeps answering (at most 60 s after
// the stop) (W1.10k, W2).
void RunOpenLoopProducer(const HttpLoadPlan& plan, int index, const LoadData& data,
                         HttpTally& tally);
// Leases up to plan.batch commands (long-poll) and completes them all, one request per
// batch (the completions of one batch carry the lease of the next), recording their
// latency; until tally.stop_workers.
void RunHttpWorker(const HttpLoadPlan& plan, int index, HttpTally& tally);

}  // namespace cmdq::app
