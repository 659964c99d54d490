#include "server/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace cmdq::server {
namespace {

Completion Done(std::string_view type, State state, int64_t took_ns) {
  Completion c;
  c.state = state;
  c.attempt = 1;
  c.submitted_steady_ns = 1'000'000;
  c.finished_steady_ns = 1'000'000 + took_ns;
  c.type = type;
  return c;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(Metrics, CountsOutcomesByType) {
  Metrics m;
  m.OnSubmitted("email", 3);
  m.OnFinished(Done("email", State::kSucceeded, 2'000'000));
  m.OnFinished(Done("email", State::kFailed, 0));
  m.OnFinished(Done("email", State::kDead, 0));
  m.OnFinished(Done("sms", State::kCancelled, 0));
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "cmdq_commands_submitted_total{type=\"email\"} 3")) << text;
  EXPECT_TRUE(Has(text, "cmdq_commands_succeeded_total{type=\"email\"} 1")) << text;
  EXPECT_TRUE(Has(text, "cmdq_commands_retried_total{type=\"email\"} 1")) << text;
  EXPECT_TRUE(Has(text, "cmdq_commands_dead_total{type=\"email\"} 1")) << text;
  EXPECT_TRUE(Has(text, "cmdq_commands_failed_total{type=\"email\"} 2")) << text;
  EXPECT_TRUE(Has(text, "cmdq_commands_cancelled_total{type=\"sms\"} 1")) << text;
  EXPECT_TRUE(Has(text, "# TYPE cmdq_commands_submitted_total counter")) << text;
}

TEST(Metrics, SubmitToDoneHistogramHasSecondsBuckets) {
  Metrics m;
  m.OnFinished(Done("t", State::kSucceeded, 2'000'000));  // 2 ms
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "cmdq_submit_to_done_seconds_bucket{type=\"t\",le=\"0.001\"} 0")) << text;
  EXPECT_TRUE(Has(text, "cmdq_submit_to_done_seconds_bucket{type=\"t\",le=\"0.0025\"} 1")) << text;
  EXPECT_TRUE(Has(text, "cmdq_submit_to_done_seconds_bucket{type=\"t\",le=\"+Inf\"} 1")) << text;
  EXPECT_TRUE(Has(text, "cmdq_submit_to_done_seconds_count{type=\"t\"} 1")) << text;
  EXPECT_TRUE(Has(text, "cmdq_submit_to_done_seconds_sum{type=\"t\"} 0.002")) << text;
  EXPECT_TRUE(Has(text, "# TYPE cmdq_submit_to_done_seconds histogram")) << text;
}

TEST(Metrics, RetryWaitsAndCancelsAreNotInSubmitToDone) {
  Metrics m;
  m.OnFinished(Done("t", State::kFailed, 5'000'000));
  m.OnFinished(Done("t", State::kCancelled, 5'000'000));
  EXPECT_TRUE(Has(m.Render(), "cmdq_submit_to_done_seconds_count{type=\"t\"} 0"));
}

TEST(Metrics, ANegativeDurationCountsAsZero) {
  Metrics m;
  m.OnHandlerRun("t", -5);
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "cmdq_handler_duration_seconds_bucket{type=\"t\",le=\"0.0001\"} 1"))
      << text;
  EXPECT_TRUE(Has(text, "cmdq_handler_duration_seconds_sum{type=\"t\"} 0")) << text;
}

TEST(Metrics, GroupCommitAndLeases) {
  Metrics m;
  m.OnCommit({.batches = 3, .write_ns = 300'000});
  m.OnLeaseExpired("remote");
  m.OnLeased("remote", 3'000'000);  // waited 3 ms for a worker
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "cmdq_group_commit_batches_bucket{le=\"2\"} 0")) << text;
  EXPECT_TRUE(Has(text, "cmdq_group_commit_batches_bucket{le=\"4\"} 1")) << text;
  EXPECT_TRUE(Has(text, "cmdq_group_commit_batches_sum 3")) << text;
  EXPECT_TRUE(Has(text, "cmdq_group_commit_write_seconds_bucket{le=\"0.0005\"} 1")) << text;
  EXPECT_TRUE(Has(text, "cmdq_leases_expired_total{type=\"remote\"} 1")) << text;
  EXPECT_TRUE(Has(text, "cmdq_lease_wait_seconds_bucket{type=\"remote\",le=\"0.001\"} 0")) << text;
  EXPECT_TRUE(Has(text, "cmdq_lease_wait_seconds_bucket{type=\"remote\",le=\"0.005\"} 1")) << text;
  EXPECT_TRUE(Has(text, "cmdq_lease_wait_seconds_sum{type=\"remote\"} 0.003")) << text;
}

TEST(Metrics, PartitionGaugesComeFromTheSourceOnEachRender) {
  Metrics m;
  EXPECT_EQ(m.Render().find("cmdq_queue_depth"), std::string::npos);
  uint32_t depth = 7;
  m.SetPartitionSource([&] {
    return std::vector<PartitionStats>{{.depth = depth, .oldest_age_us = 1'500'000}, {}};
  });
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "cmdq_queue_depth{partition=\"0\"} 7")) << text;
  EXPECT_TRUE(Has(text, "cmdq_queue_depth{partition=\"1\"} 0")) << text;
  EXPECT_TRUE(Has(text, "cmdq_queue_oldest_age_seconds{partition=\"0\"} 1.5")) << text;
  depth = 9;
  EXPECT_TRUE(Has(m.Render(), "cmdq_queue_depth{partition=\"0\"} 9"));
}

TEST(Metrics, HttpByRouteAndStatus) {
  Metrics m;
  m.OnHttp("POST /v1/commands", 200, 1'000'000);
  m.OnHttp("POST /v1/commands", 200, 1'000'000);
  m.OnHttp("POST /v1/commands", 429, 1'000);
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "cmdq_http_requests_total{route=\"POST /v1/commands\",code=\"200\"} 2"))
      << text;
  EXPECT_TRUE(Has(text, "cmdq_http_requests_total{route=\"POST /v1/commands\",code=\"429\"} 1"))
      << text;
  EXPECT_TRUE(Has(text, "cmdq_http_request_duration_seconds_count{route=\"POST /v1/commands\"} 3"))
      << text;
}

TEST(Metrics, LabelValuesPastTheLimitFoldIntoOther) {
  Metrics m;
  for (size_t i = 0; i < Metrics::kMaxLabelValues + 10; ++i) {
    m.OnSubmitted("type" + std::to_string(i));
  }
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "cmdq_commands_submitted_total{type=\"_other\"} 10")) << text;
  EXPECT_TRUE(Has(text, "cmdq_commands_submitted_total{type=\"type0\"} 1"));
}

TEST(Metrics, EscapesLabelValues) {
  Metrics m;
  m.OnSubmitted("a\"b\\c");
  EXPECT_TRUE(Has(m.Render(), "cmdq_commands_submitted_total{type=\"a\\\"b\\\\c\"} 1"));
}

// Many threads add to the same and to new types while scrapes run: no count is lost.
TEST(MetricsConcurrency, HooksFromManyThreadsWhileScraping) {
  Metrics m;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20'000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) (void)m.Render();
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string own = "own" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        m.OnSubmitted("shared");
        m.OnFinished(Done(own, State::kSucceeded, i));
        if (i % 1000 == 0) m.OnSubmitted("new" + std::to_string(t) + "_" + std::to_string(i));
      }
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  scraper.join();
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "cmdq_commands_submitted_total{type=\"shared\"} " +
                            std::to_string(kThreads * kPerThread)));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(Has(text, "cmdq_commands_succeeded_total{type=\"own" + std::to_string(t) + "\"} " +
                              std::to_string(kPerThread)));
  }
}

}  // namespace
}  // namespace cmdq::server

namespace cmdq::server {
namespace {

TEST(Metrics, EveryAttemptThatRanFeedsTheHandlerDuration) {
  Metrics m;
  Completion ran = Done("t", State::kSucceeded, 1'000'000);
  ran.run_ns = 3'000'000;  // 3 ms
  m.OnFinished(ran);
  m.OnFinished(Done("t", State::kCancelled, 0));  // nothing ran
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "cmdq_handler_duration_seconds_count{type=\"t\"} 1")) << text;
  EXPECT_TRUE(Has(text, "cmdq_handler_duration_seconds_sum{type=\"t\"} 0.003")) << text;
}

}  // namespace
}  // namespace cmdq::server
