// Metrics: the counters, histograms and gauges of `GET /metrics` (docs/operations.md).
//
// The server plugs the On* hooks into BusOptions (on_finished, on_commit,
// on_lease_expired, on_leased) and calls OnSubmitted/OnHandlerRun/OnHttp itself; Render() writes
// the Prometheus text exposition for a scrape.
//
// Why not prometheus-cpp's Counter/Histogram objects on the hot path: its Histogram
// takes a mutex on every Observe and its Counter CASes one shared double, so a million
// completions a second from several worker threads would queue on one cache line. Here
// every hook is a few relaxed atomic adds on a stripe of cells picked by the calling
// thread; the cells of a label (a type, a route) are found without a lock once they
// exist. Render() sums the stripes into prometheus-cpp's MetricFamily values and lets
// its TextSerializer write them, so the exposition format is the library's.
//
// Label values are bounded: past kMaxLabelValues distinct values per family, new ones are
// counted under "_other" (a type or route name comes from configuration, but a bug must
// not turn into unbounded memory or a scrape of millions of series).
//
// Thread-safety: every method may be called from any thread at any time, also while
// Render() runs. Hooks never block on each other; Render() serializes scrapes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cmdq/bus.h"

namespace cmdq::server {

class Metrics {
 public:
  // Distinct label values per family before new ones fold into "_other".
  static constexpr size_t kMaxLabelValues = 256;

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // --- Hooks for BusOptions: cheap, lock-free once a type has been seen. ---
  // BusOptions::on_finished: counts the outcome by type (succeeded, retried = failed and
  // waiting for a retry, dead, cancelled; failed = retried + dead) and observes
  // submit->done for succeeded and dead commands.
  void OnFinished(const Completion& completion);
  // BusOptions::on_commit: the group-commit batch size and the synced write's latency.
  void OnCommit(const CommitStats& stats);
  // BusOptions::on_lease_expired.
  void OnLeaseExpired(std::string_view type);
  // BusOptions::on_leased: how long a command waited offered before a worker leased it.
  void OnLeased(std::string_view type, int64_t waited_ns);

  // --- Hooks the server calls itself. ---
  // `n` commands of `type` accepted (after the Bus said yes, so refused ones are not
  // counted and a type name is always a declared one).
  void OnSubmitted(std::string_view type, uint64_t n = 1);
  // How long one run of a handler took: for remote workers, lease to complete/fail.
  void OnHandlerRun(std::string_view type, int64_t duration_ns);
  // One HTTP request answered. `route` is the route's template ("POST /v1/commands",
  // "GET /v1/commands/{id}"), never the raw path: raw paths would be unbounded labels.
  void OnHttp(std::string_view route, int status, int64_t duration_ns);

  // Where Render() reads the per-partition gauges (queue depth, oldest age): typically
  // [&bus] { return bus.Partitions(); }. Called on the scraping thread, once per Render().
  // Unset: no partition gauges. Set it before serving; not to be changed while scraping.
  void SetPartitionSource(std::function<std::vector<PartitionStats>()> source);

  // The Prometheus text exposition format (version 0.0.4) of every family; the server
  // answers `GET /metrics` with it, Content-Type "text/plain; version=0.0.4".
  std::string Render() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cmdq::server
