#include "server/io_balancer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace cmdq::server {
namespace {

// Places `n` connections; all on thread 0 while it is not busy.
void PlaceAll(IoBalancer& b, int n) {
  for (int i = 0; i < n; ++i) ASSERT_EQ(b.Place(), 0u);
}

// One period: every thread reports its load (the last report decides).
void Period(IoBalancer& b, const std::vector<double>& loads) {
  for (size_t t = 0; t < loads.size(); ++t) b.Report(static_cast<uint32_t>(t), loads[t]);
}

// Periods enough for a busy thread to spread (IoBalancer::kBusyDecisions).
void BusyPeriods(IoBalancer& b, const std::vector<double>& loads) {
  for (int i = 0; i < IoBalancer::kBusyDecisions; ++i) Period(b, loads);
}

// Takes every move thread `t` is asked for; returns where they went.
std::vector<uint32_t> TakeAll(IoBalancer& b, uint32_t t) {
  std::vector<uint32_t> to;
  while (auto next = b.TakeMove(t)) to.push_back(*next);
  return to;
}

TEST(IoBalancer, PacksConnectionsOntoThreadZeroWhileItIsNotBusy) {
  IoBalancer b(2);
  PlaceAll(b, 4);
  BusyPeriods(b, {0.85, 0.0});  // W1.10k's light load: under kBusy
  EXPECT_TRUE(TakeAll(b, 0).empty());
  EXPECT_EQ(b.connections(0), 4u);
  EXPECT_EQ(b.connections(1), 0u);
}

TEST(IoBalancer, ABusyThreadHandsHalfItsConnectionsToAnIdleOne) {
  IoBalancer b(2);
  PlaceAll(b, 4);
  BusyPeriods(b, {0.95, 0.0});
  EXPECT_EQ(TakeAll(b, 0), (std::vector<uint32_t>{1, 1}));
  EXPECT_EQ(b.connections(0), 2u);
  EXPECT_EQ(b.connections(1), 2u);
  // Thread 1 measured its new connections, thread 0 not yet: no decision.
  b.Report(1, 0.1);
  EXPECT_TRUE(TakeAll(b, 0).empty());
  // Spread and both fairly busy: nothing moves back and forth.
  BusyPeriods(b, {0.6, 0.6});
  EXPECT_TRUE(TakeAll(b, 0).empty());
  EXPECT_TRUE(TakeAll(b, 1).empty());
}

TEST(IoBalancer, BusyConnectionsThatPiledOntoOneThreadSpreadAgain) {
  // Thread 0 held 4 busy and 4 idle connections; the busy ones, the first to finish a
  // request, all moved. Thread 1 is now busy with as many connections as thread 0.
  IoBalancer b(2);
  PlaceAll(b, 8);
  BusyPeriods(b, {0.97, 0.0});
  ASSERT_EQ(TakeAll(b, 0).size(), 4u);
  BusyPeriods(b, {0.02, 0.99});
  EXPECT_EQ(TakeAll(b, 1), (std::vector<uint32_t>{0, 0}));
}

TEST(IoBalancer, DecidesOnlyOnLoadsEveryThreadReportedSinceItsLastDecision) {
  IoBalancer b(2);
  PlaceAll(b, 8);
  BusyPeriods(b, {0.95, 0.0});
  ASSERT_EQ(TakeAll(b, 0).size(), 4u);
  // Thread 0 reads busy again before thread 1 has measured its new connections.
  b.Report(0, 0.95);
  EXPECT_TRUE(TakeAll(b, 0).empty());
  EXPECT_EQ(b.connections(0), 4u);
}

TEST(IoBalancer, OneBusyPeriodIsABurstNotALoad) {
  IoBalancer b(2);
  PlaceAll(b, 4);
  Period(b, {0.95, 0.0});
  Period(b, {0.7, 0.0});
  Period(b, {0.95, 0.0});
  EXPECT_TRUE(TakeAll(b, 0).empty());
  Period(b, {0.95, 0.0});
  EXPECT_EQ(TakeAll(b, 0).size(), 2u);
}

TEST(IoBalancer, NewConnectionsGoToTheIdlestThreadWhileThreadZeroIsBusy) {
  IoBalancer b(3);
  b.Report(0, 0.95);
  b.Report(1, 0.6);
  b.Report(2, 0.2);
  EXPECT_EQ(b.Place(), 2u);
  b.Report(0, 0.5);
  EXPECT_EQ(b.Place(), 0u);
}

TEST(IoBalancer, AQuietServerPacksEveryConnectionBackOntoThreadZero) {
  IoBalancer b(2);
  PlaceAll(b, 4);
  BusyPeriods(b, {0.95, 0.0});
  ASSERT_EQ(TakeAll(b, 0).size(), 2u);
  Period(b, {0.3, 0.25});
  EXPECT_EQ(TakeAll(b, 1), (std::vector<uint32_t>{0, 0}));
  EXPECT_EQ(b.connections(0), 4u);
  EXPECT_EQ(b.connections(1), 0u);
}

TEST(IoBalancer, MovesWantedNeverOutnumberTheConnectionsLeft) {
  IoBalancer b(2);
  PlaceAll(b, 4);
  BusyPeriods(b, {0.95, 0.0});  // two moves wanted from thread 0
  b.Closed(0);
  b.Closed(0);
  b.Closed(0);  // one connection left
  EXPECT_EQ(TakeAll(b, 0).size(), 1u);
  EXPECT_EQ(b.connections(0), 0u);
  EXPECT_EQ(b.connections(1), 1u);
}

TEST(IoBalancer, OneThreadNeverMoves) {
  IoBalancer b(1);
  PlaceAll(b, 3);
  b.Report(0, 1.0);
  EXPECT_FALSE(b.TakeMove(0).has_value());
}

// Threads report, place, close and take moves at once; the counts stay whole.
TEST(IoBalancerConcurrency, CountsHoldUnderRacingReportsPlacesAndMoves) {
  IoBalancer b(2);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) b.Report(t, (i % 10) / 10.0 + (t == 0 ? 0.3 : 0.0));
    });
  }
  std::atomic<int> placed{0};
  std::atomic<int> closed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 2; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 20'000; ++i) {
        uint32_t at = b.Place();
        placed.fetch_add(1);
        for (int hop = 0; hop < 3; ++hop) {
          if (auto to = b.TakeMove(at)) at = *to;
        }
        if (i % 2 == 0) {
          b.Closed(at);
          closed.fetch_add(1);
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  stop.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(b.connections(0) + b.connections(1),
            static_cast<uint32_t>(placed.load() - closed.load()));
}

}  // namespace
}  // namespace cmdq::server
