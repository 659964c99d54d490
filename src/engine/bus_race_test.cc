// Hammers: per-key order with many producers, and cancel/undo racing the workers.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/test_util.h"

namespace cmdq {
namespace {

using namespace std::chrono_literals;
using testing::Cmd;
using testing::Eventually;
using testing::MakeBus;
using testing::Scaled;

// Payload "producer:seq": per key, each producer's sequence numbers must run in order.
struct OrderChecker {
  static constexpr int kKeys = 1000;
  std::vector<std::unique_ptr<std::atomic<int64_t>>> last;  // per (key, producer)
  std::atomic<int64_t> runs{0};
  std::atomic<int64_t> violations{0};
  std::vector<std::atomic<uint8_t>> seen;  // per command index

  OrderChecker(int producers, size_t total) : seen(total) {
    for (int i = 0; i < kKeys * producers; ++i) {
      last.push_back(std::make_unique<std::atomic<int64_t>>(-1));
    }
  }
};

TEST(BusRace, PerKeyOrderHoldsUnderFourProducersWithNothingLostOrRunTwice) {
  constexpr int kProducers = 4;
  const size_t total = Scaled(1'000'000, 20'000);
  const size_t per_producer = total / kProducers;
  BusOptions o;
  o.workers = 2;
  o.queue_capacity = 4096;
  std::atomic<int64_t> done{0};
  o.on_finished = [&](const Completion& c) {
    if (c.state == State::kSucceeded) done.fetch_add(1);
  };
  auto bus = MakeBus(o);
  OrderChecker check(kProducers, per_producer * kProducers);
  ASSERT_TRUE(
      bus->Register("seq",
                    Handler{.execute = [&](const HandlerContext& ctx) -> Result<std::string> {
                      const std::string& p = ctx.command().payload;
                      const int producer = p[0] - '0';
                      const int64_t seq = std::stoll(p.substr(2));
                      const int key = std::stoi(ctx.command().key);
                      auto& last = *check.last[key * kProducers + producer];
                      if (last.exchange(seq) >= seq) ++check.violations;
                      const size_t index = producer * per_producer + seq;
                      if (check.seen[index].fetch_add(1) != 0) {
                        ++check.violations;
                      }
                      check.runs.fetch_add(1);
                      return std::string();
                    }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (size_t i = 0; i < per_producer; ++i) {
        Command c = Cmd("seq", std::to_string(i % OrderChecker::kKeys),
                        std::to_string(p) + ":" + std::to_string(i));
        ASSERT_TRUE(bus->Submit(std::move(c)).has_value());
      }
    });
  }
  for (auto& t : producers) t.join();
  StopReport report = bus->Stop(StopMode::kDrain);
  EXPECT_TRUE(report.left.empty());
  EXPECT_EQ(check.violations.load(), 0);
  EXPECT_EQ(check.runs.load(), static_cast<int64_t>(per_producer * kProducers));
  EXPECT_EQ(done.load(), static_cast<int64_t>(per_producer * kProducers));
  for (auto& s : check.seen) ASSERT_EQ(s.load(), 1);
}

TEST(BusRace, CancelRacingTheWorkersEndsEachCommandExactlyOneWay) {
  const size_t n = Scaled(20'000, 2000);
  BusOptions o;
  o.workers = 2;
  auto bus = MakeBus(o);
  std::vector<std::atomic<uint8_t>> runs(n);
  std::unordered_map<uint64_t, size_t> index;
  std::mutex index_mu;
  ASSERT_TRUE(
      bus->Register("t", Handler{.execute = [&](const HandlerContext& ctx) -> Result<std::string> {
                      runs[std::stoul(ctx.command().payload)].fetch_add(1);
                      return std::string();
                    }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  std::vector<CommandId> ids(n);
  std::atomic<size_t> submitted{0};
  std::thread producer([&] {
    for (size_t i = 0; i < n; ++i) {
      ids[i] = *bus->Submit(Cmd("t", std::to_string(i % 50), std::to_string(i)));
      submitted.store(i + 1, std::memory_order_release);
    }
  });
  std::atomic<size_t> cancelled{0};
  std::thread canceller([&] {
    for (size_t i = 0; i < n; i += 2) {
      while (submitted.load(std::memory_order_acquire) <= i) std::this_thread::yield();
      Status s = bus->Cancel(ids[i]);
      if (s.ok()) {
        ++cancelled;
      } else {
        EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
      }
    }
  });
  producer.join();
  canceller.join();
  bus->Stop(StopMode::kDrain);
  size_t succeeded = 0, was_cancelled = 0;
  for (size_t i = 0; i < n; ++i) {
    const State s = bus->Get(ids[i])->state;
    if (s == State::kSucceeded) {
      ++succeeded;
      ASSERT_EQ(runs[i].load(), 1) << i;
    } else {
      ASSERT_EQ(s, State::kCancelled) << i;
      ASSERT_EQ(runs[i].load(), 0) << "a cancelled command ran: " << i;
      ++was_cancelled;
    }
  }
  EXPECT_EQ(succeeded + was_cancelled, n);
  EXPECT_EQ(was_cancelled, cancelled.load());
}

TEST(BusRace, ConcurrentUndosOfOneCommandRunTheUndoOnce) {
  auto bus = MakeBus();
  std::atomic<int> undos{0};
  ASSERT_TRUE(
      bus->Register("t", Handler{.execute = [](const HandlerContext&) -> Result<std::string> {
                                   return std::string("r");
                                 },
                                 .undo =
                                     [&](const HandlerContext&, std::string_view) {
                                       ++undos;
                                       std::this_thread::sleep_for(2ms);
                                       return Status::Ok();
                                     }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  for (int round = 0; round < 20; ++round) {
    auto id = *bus->Submit(Cmd("t", "k"));
    ASSERT_EQ(bus->Wait(id, 5s)->state, State::kSucceeded);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&] {
        if (bus->Undo(id).ok()) ++ok;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(bus->Get(id)->state, State::kUndone);
  }
  EXPECT_EQ(undos.load(), 20);
}

TEST(BusRace, UndoRefusesCommandsThatDidNotSucceed) {
  auto bus = MakeBus();
  ASSERT_TRUE(bus->Register("no_undo", testing::Returns("")).ok());
  ASSERT_TRUE(
      bus->Register("bad", Handler{.execute = [](const HandlerContext&) -> Result<std::string> {
                                     return Error(Status::FailedPrecondition("no"));
                                   },
                                   .undo = [](const HandlerContext&,
                                              std::string_view) { return Status::Ok(); }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto dead = *bus->Submit(Cmd("bad", "k"));
  ASSERT_EQ(bus->Wait(dead, 5s)->state, State::kDead);
  Status s = bus->Undo(dead);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("dead"), std::string::npos) << s.message();
  auto plain = *bus->Submit(Cmd("no_undo", "k"));
  ASSERT_EQ(bus->Wait(plain, 5s)->state, State::kSucceeded);
  EXPECT_EQ(bus->Undo(plain).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(bus->Get(plain)->state, State::kSucceeded);
  EXPECT_EQ(bus->Undo(CommandId(99)).code(), StatusCode::kNotFound);
}

TEST(BusRace, CancelRefusesFinishedCommands) {
  auto bus = MakeBus();
  ASSERT_TRUE(bus->Register("t", testing::Returns("")).ok());
  ASSERT_TRUE(bus->Start().ok());
  auto id = *bus->Submit(Cmd("t", "k"));
  ASSERT_EQ(bus->Wait(id, 5s)->state, State::kSucceeded);
  Status s = bus->Cancel(id);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("succeeded"), std::string::npos);
  EXPECT_EQ(bus->Get(id)->state, State::kSucceeded);
}

TEST(BusRace, IdempotentSubmitsFromManyThreadsMakeOneCommand) {
  auto bus = MakeBus();
  std::atomic<int> runs{0};
  ASSERT_TRUE(
      bus->Register("t", Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                      ++runs;
                      return std::string();
                    }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  std::vector<CommandId> got(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Command c = Cmd("t", "k");
      c.idempotency_key = "pay-42";
      got[i] = *bus->Submit(std::move(c));
    });
  }
  for (auto& t : threads) t.join();
  for (CommandId id : got) EXPECT_EQ(id, got[0]);
  bus->Stop(StopMode::kDrain);
  EXPECT_EQ(runs.load(), 1);
}

// A lone submit of a remote type is offered by the producer's own thread, and a small
// completion by the finishing thread: both may own a partition when Stop comes. Stopping
// now while they run must neither free a task they touch nor lose one: every accepted
// command has succeeded or is in the report's `left`.
TEST(BusRace, StopNowRacingInlineOffersAndCompletionsLosesNothing) {
  const int rounds = static_cast<int>(Scaled(40, 5));
  for (int round = 0; round < rounds; ++round) {
    BusOptions options;
    options.workers = 2;
    options.partitions = 4;
    auto bus = MakeBus(std::move(options));
    TypeOptions type;
    type.timeout = 0ms;
    ASSERT_TRUE(bus->RegisterRemote("remote", type).ok());
    ASSERT_TRUE(bus->Start().ok());
    std::mutex mu;
    std::vector<CommandId> accepted;
    std::atomic<bool> stopping{false};
    std::vector<std::thread> threads;
    for (int p = 0; p < 3; ++p) {
      threads.emplace_back([&, p] {
        for (int i = 0; !stopping.load(); ++i) {
          auto id = bus->Submit(Cmd("remote", fmt::format("k{}-{}", p, i % 7)));
          if (!id) break;
          std::lock_guard lock(mu);
          accepted.push_back(*id);
        }
      });
    }
    threads.emplace_back([&] {
      const LeaseAsk ask{.types = {"remote"}, .max = 8, .worker = "w"};
      while (!stopping.load()) {
        auto grants = bus->Lease(ask, 1ms);
        if (!grants) break;
        std::vector<RemoteOutcome> done;
        for (const LeaseGrant& g : *grants) {
          done.push_back({.id = g.command->id, .token = g.token, .ok = true});
        }
        if (!done.empty()) bus->Finish(std::move(done));
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(2 + round % 5));
    StopReport report = bus->Stop(StopMode::kNow);
    stopping.store(true);
    for (auto& t : threads) t.join();
    std::set<CommandId> left(report.left.begin(), report.left.end());
    for (CommandId id : accepted) {
      if (left.contains(id)) continue;
      auto rec = bus->Get(id);
      ASSERT_TRUE(rec.has_value()) << id.ToString();
      EXPECT_EQ(rec->state, State::kSucceeded) << id.ToString();
    }
  }
}

}  // namespace
}  // namespace cmdq
