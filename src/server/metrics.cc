#include "server/metrics.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <limits>
#include <mutex>
#include <sstream>

#include "server/striped_cells.h"

namespace cmdq::server {
namespace {

// Durations in ns: 100 µs (a D0 submit->done) to 30 s (a slow handler, a long wait).
constexpr std::array<int64_t, 17> kLatencyNs = {
    100'000,       250'000,       500'000,       1'000'000,      2'500'000,     5'000'000,
    10'000'000,    25'000'000,    50'000'000,    100'000'000,    250'000'000,   500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000, 30'000'000'000};
// One synced write: an fdatasync here is ~260 µs (DESIGN.md §8); a stalled disk is seconds.
constexpr std::array<int64_t, 14> kWriteNs = {
    50'000,     100'000,    250'000,    500'000,     1'000'000,   2'500'000,     5'000'000,
    10'000'000, 25'000'000, 50'000'000, 100'000'000, 250'000'000, 1'000'000'000, 5'000'000'000};
// Batches per group-commit write: powers of two up to far past what one write carries.
constexpr std::array<int64_t, 11> kBatches = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

constexpr double kNsPerSecond = 1e9;

// The cells of one command type.
enum TypeCell : size_t {
  kSubmitted,
  kSucceeded,
  kRetried,
  kDead,
  kCancelled,
  kLeasesExpired,
  kTypeCounters,  // the histograms follow
};
constexpr HistogramLayout kDoneHist{kLatencyNs, kTypeCounters};
constexpr HistogramLayout kRunHist{kLatencyNs, kTypeCounters + kDoneHist.width()};
constexpr HistogramLayout kLeaseWaitHist{kLatencyNs, kRunHist.offset + kRunHist.width()};
constexpr size_t kTypeWidth = kLeaseWaitHist.offset + kLeaseWaitHist.width();

constexpr HistogramLayout kCommitBatchHist{kBatches, 0};
constexpr HistogramLayout kCommitWriteHist{kWriteNs, kCommitBatchHist.width()};
constexpr HistogramLayout kHttpHist{kLatencyNs, 0};

// Separates route and status in the key of the HTTP counter table; no route holds it.
constexpr char kKeySeparator = '\x1f';

prometheus::ClientMetric::Label Label(std::string name, std::string_view value) {
  return {std::move(name), std::string(value)};
}

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

prometheus::ClientMetric HistogramMetric(const HistogramLayout& layout, const CellBlock& block,
                                         double unit) {
  auto [counts, sum] = layout.Read(block);
  prometheus::ClientMetric metric;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    const double bound = i < layout.bounds.size() ? static_cast<double>(layout.bounds[i]) / unit
                                                  : std::numeric_limits<double>::infinity();
    metric.histogram.bucket.push_back({cumulative, bound});
  }
  // The count is the buckets' total, so that +Inf and _count always agree.
  metric.histogram.sample_count = cumulative;
  metric.histogram.sample_sum = static_cast<double>(sum) / unit;
  return metric;
}

}  // namespace

class Metrics::Impl {
 public:
  LabelTable types{kTypeWidth, kMaxLabelValues};
  LabelTable http_counts{1, kMaxLabelValues};  // key: route, separator, status
  LabelTable http_durations{kHttpHist.width(), kMaxLabelValues};
  CellBlock commits{kCommitBatchHist.width() + kCommitWriteHist.width()};

  mutable std::mutex render_mu;  // one scrape at a time; guards partition_source
  std::function<std::vector<PartitionStats>()> partition_source;

  void RenderTypes(std::vector<prometheus::MetricFamily>& out) const;
  void RenderCommits(std::vector<prometheus::MetricFamily>& out) const;
  void RenderPartitions(std::vector<prometheus::MetricFamily>& out) const;
  void RenderHttp(std::vector<prometheus::MetricFamily>& out) const;
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::OnFinished(const Completion& completion) {
  CellBlock& cells = impl_->types.Get(completion.type);
  const int64_t done_ns = completion.finished_steady_ns - completion.submitted_steady_ns;
  // Every attempt that ran, in process or by a remote worker (lease to outcome).
  if (completion.run_ns > 0) kRunHist.Observe(cells, completion.run_ns);
  switch (completion.state) {
    case State::kSucceeded:
      cells.Add(kSucceeded, 1);
      kDoneHist.Observe(cells, done_ns);
      break;
    case State::kFailed:  // failed, waiting for its retry
      cells.Add(kRetried, 1);
      break;
    case State::kDead:
      cells.Add(kDead, 1);
      kDoneHist.Observe(cells, done_ns);
      break;
    case State::kCancelled:
      cells.Add(kCancelled, 1);
      break;
    default:  // not reported by the Bus
      break;
  }
}

void Metrics::OnCommit(const CommitStats& stats) {
  kCommitBatchHist.Observe(impl_->commits, stats.batches);
  kCommitWriteHist.Observe(impl_->commits, stats.write_ns);
}

void Metrics::OnLeaseExpired(std::string_view type) {
  impl_->types.Get(type).Add(kLeasesExpired, 1);
}

void Metrics::OnSubmitted(std::string_view type, uint64_t n) {
  impl_->types.Get(type).Add(kSubmitted, n);
}

void Metrics::OnHandlerRun(std::string_view type, int64_t duration_ns) {
  kRunHist.Observe(impl_->types.Get(type), duration_ns);
}

void Metrics::OnLeased(std::string_view type, int64_t waited_ns) {
  kLeaseWaitHist.Observe(impl_->types.Get(type), waited_ns);
}

void Metrics::OnHttp(std::string_view route, int status, int64_t duration_ns) {
  // Reused per thread: no allocation per request once the buffer has grown.
  thread_local std::string key;
  key.assign(route);
  key.push_back(kKeySeparator);
  key.append(std::to_string(status));
  impl_->http_counts.Get(key).Add(0, 1);
  kHttpHist.Observe(impl_->http_durations.Get(route), duration_ns);
}

void Metrics::SetPartitionSource(std::function<std::vector<PartitionStats>()> source) {
  std::lock_guard lock(impl_->render_mu);
  impl_->partition_source = std::move(source);
}

void Metrics::Impl::RenderTypes(std::vector<prometheus::MetricFamily>& out) const {
  struct CounterFamily {
    const char* name;
    const char* help;
    size_t cell;  // kFailed sums retried and dead
  };
  constexpr size_t kFailedSum = kTypeWidth;
  static constexpr std::array<CounterFamily, 7> kCounters = {{
      {"cmdq_commands_submitted_total", "Commands accepted by submit, by type.", kSubmitted},
      {"cmdq_commands_succeeded_total", "Commands that completed successfully.", kSucceeded},
      {"cmdq_commands_failed_total",
       "Failed attempts: retried_total + dead_total (a cancelled command is not a failure).",
       kFailedSum},
      {"cmdq_commands_retried_total", "Failed attempts that will be retried.", kRetried},
      {"cmdq_commands_dead_total", "Commands that failed their last attempt (dead).", kDead},
      {"cmdq_commands_cancelled_total", "Commands cancelled before they ran.", kCancelled},
      {"cmdq_leases_expired_total",
       "Remote worker leases that expired unfinished (each counts as a failed attempt).",
       kLeasesExpired},
  }};
  const auto by_type = types.Sorted();
  for (const CounterFamily& c : kCounters) {
    auto family = Family(c.name, c.help, prometheus::MetricType::Counter);
    for (const auto& [type, cells] : by_type) {
      prometheus::ClientMetric metric;
      metric.label.push_back(Label("type", type));
      const uint64_t value =
          c.cell == kFailedSum ? cells->Sum(kRetried) + cells->Sum(kDead) : cells->Sum(c.cell);
      metric.counter.value = static_cast<double>(value);
      family.metric.push_back(std::move(metric));
    }
    out.push_back(std::move(family));
  }
  auto done = Family("cmdq_submit_to_done_seconds",
                     "From submit to the stored final state, succeeded or dead, by type.",
                     prometheus::MetricType::Histogram);
  auto run = Family("cmdq_handler_duration_seconds",
                    "One run of a handler (remote workers: lease to complete or fail), by type.",
                    prometheus::MetricType::Histogram);
  auto wait = Family("cmdq_lease_wait_seconds",
                     "How long a remote type's runnable command waited for a worker to lease "
                     "it, by type: too few workers show here first.",
                     prometheus::MetricType::Histogram);
  for (const auto& [type, cells] : by_type) {
    done.metric.push_back(HistogramMetric(kDoneHist, *cells, kNsPerSecond));
    done.metric.back().label.push_back(Label("type", type));
    run.metric.push_back(HistogramMetric(kRunHist, *cells, kNsPerSecond));
    run.metric.back().label.push_back(Label("type", type));
    wait.metric.push_back(HistogramMetric(kLeaseWaitHist, *cells, kNsPerSecond));
    wait.metric.back().label.push_back(Label("type", type));
  }
  out.push_back(std::move(done));
  out.push_back(std::move(run));
  out.push_back(std::move(wait));
}

void Metrics::Impl::RenderCommits(std::vector<prometheus::MetricFamily>& out) const {
  auto batches = Family("cmdq_group_commit_batches",
                        "Submit and completion batches carried by one synced store write.",
                        prometheus::MetricType::Histogram);
  batches.metric.push_back(HistogramMetric(kCommitBatchHist, commits, 1.0));
  out.push_back(std::move(batches));
  auto write =
      Family("cmdq_group_commit_write_seconds", "One group-commit store write, fsync included.",
             prometheus::MetricType::Histogram);
  write.metric.push_back(HistogramMetric(kCommitWriteHist, commits, kNsPerSecond));
  out.push_back(std::move(write));
}

void Metrics::Impl::RenderPartitions(std::vector<prometheus::MetricFamily>& out) const {
  if (!partition_source) return;
  const std::vector<PartitionStats> partitions = partition_source();
  auto depth = Family("cmdq_queue_depth", "Commands accepted and not finished, by partition.",
                      prometheus::MetricType::Gauge);
  auto age = Family("cmdq_queue_oldest_age_seconds",
                    "Age of the oldest runnable command waiting, by partition (0 = none).",
                    prometheus::MetricType::Gauge);
  for (size_t p = 0; p < partitions.size(); ++p) {
    const std::string partition = std::to_string(p);
    prometheus::ClientMetric d;
    d.label.push_back(Label("partition", partition));
    d.gauge.value = partitions[p].depth;
    depth.metric.push_back(std::move(d));
    prometheus::ClientMetric a;
    a.label.push_back(Label("partition", partition));
    a.gauge.value = static_cast<double>(partitions[p].oldest_age_us) / 1e6;
    age.metric.push_back(std::move(a));
  }
  out.push_back(std::move(depth));
  out.push_back(std::move(age));
}

void Metrics::Impl::RenderHttp(std::vector<prometheus::MetricFamily>& out) const {
  auto requests = Family("cmdq_http_requests_total", "HTTP requests answered, by route and status.",
                         prometheus::MetricType::Counter);
  for (const auto& [key, cells] : http_counts.Sorted()) {
    const size_t cut = key.rfind(kKeySeparator);
    prometheus::ClientMetric metric;
    // The overflow entry has no separator: it stands for any route and status.
    metric.label.push_back(Label("route", key.substr(0, cut)));
    metric.label.push_back(
        Label("code", cut == std::string_view::npos ? key : key.substr(cut + 1)));
    metric.counter.value = static_cast<double>(cells->Sum(0));
    requests.metric.push_back(std::move(metric));
  }
  out.push_back(std::move(requests));
  auto durations =
      Family("cmdq_http_request_duration_seconds", "Time to answer one HTTP request, by route.",
             prometheus::MetricType::Histogram);
  for (const auto& [route, cells] : http_durations.Sorted()) {
    durations.metric.push_back(HistogramMetric(kHttpHist, *cells, kNsPerSecond));
    durations.metric.back().label.push_back(Label("route", route));
  }
  out.push_back(std::move(durations));
}

std::string Metrics::Render() const {
  std::lock_guard lock(impl_->render_mu);
  std::vector<prometheus::MetricFamily> families;
  impl_->RenderTypes(families);
  impl_->RenderCommits(families);
  impl_->RenderPartitions(families);
  impl_->RenderHttp(families);
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace cmdq::server
