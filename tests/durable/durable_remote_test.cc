// Remote workers on a durable bus: outcomes a worker reported are on disk; commands that
// were leased (or waiting for a lease) when the bus stopped run again after a reopen,
// in their keys' order.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cmdq/bus.h"
#include "common/temp_dir.h"
#include "durable/durable_bus.h"

namespace cmdq {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

constexpr char kType[] = "remote.job";

std::unique_ptr<Bus> StartRemoteBus(const std::string& path) {
  return testing::StartDurableBus(path, {.lease_drain_wait = 0ms}, [](Bus& bus) {
    return bus.RegisterRemote(kType, {.max_attempts = 3});
  });
}

std::vector<LeaseGrant> LeaseAll(Bus& bus, size_t n) {
  std::vector<LeaseGrant> all;
  for (int i = 0; i < 200 && all.size() < n; ++i) {
    auto got = bus.Lease({.types = {kType}, .max = 100, .worker = "w"}, 20ms);
    EXPECT_TRUE(got.has_value());
    if (!got) break;
    for (auto& g : *got) all.push_back(std::move(g));
  }
  return all;
}

TEST(DurableRemote, FinishedOutcomesSurviveAndLeasedCommandsRunAgainAfterReopen) {
  TempDir dir;
  std::vector<CommandId> ids;
  CommandId finished, leased, waiting;
  {
    auto bus = StartRemoteBus(dir.path());
    ASSERT_NE(bus, nullptr);
    for (const char* key : {"a", "b", "b"}) {
      Command c;
      c.type = kType;
      c.key = key;
      c.payload = key;
      ids.push_back(*bus->Submit(std::move(c)));
    }
    auto grants = LeaseAll(*bus, 2);  // the heads of "a" and "b"
    ASSERT_EQ(grants.size(), 2u);
    const LeaseGrant& a = grants[0].command->key == "a" ? grants[0] : grants[1];
    const LeaseGrant& b = grants[0].command->key == "a" ? grants[1] : grants[0];
    auto st = bus->Finish({{.id = a.command->id, .token = a.token, .result = "done-a"}});
    ASSERT_TRUE(st[0].ok()) << st[0].ToString();
    finished = a.command->id;
    leased = b.command->id;
    waiting = ids[2];
    auto report = bus->Stop(StopMode::kNow);  // b is leased, its successor waits
    EXPECT_EQ(report.left.size(), 2u);
  }
  auto bus = StartRemoteBus(dir.path());
  ASSERT_NE(bus, nullptr);
  EXPECT_EQ(bus->Get(finished)->state, State::kSucceeded);
  EXPECT_EQ(bus->Get(finished)->result, "done-a");
  // Key "b" runs again in order: the command that was leased first, then its successor.
  for (CommandId expected : {leased, waiting}) {
    auto g = LeaseAll(*bus, 1);
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0].command->id, expected);
    ASSERT_TRUE(bus->Finish({{.id = g[0].command->id, .token = g[0].token}})[0].ok());
  }
  EXPECT_EQ(bus->Get(waiting)->state, State::kSucceeded);
}

// A client whose submit was stored but whose answer a crash lost retries with the same
// idempotency key after the restart: it gets the stored command, not a second one.
TEST(DurableRemote, AnUnfinishedCommandKeepsItsIdempotencyKeyAcrossARestart) {
  TempDir dir;
  auto keyed = [](std::string key) {
    Command c;
    c.type = kType;
    c.key = "k";
    c.idempotency_key = std::move(key);
    return c;
  };
  CommandId first;
  {
    auto bus = StartRemoteBus(dir.path());
    ASSERT_NE(bus, nullptr);
    first = *bus->Submit(keyed("pay-42"));
    bus->Stop(StopMode::kNow);
  }
  auto bus = StartRemoteBus(dir.path());
  ASSERT_NE(bus, nullptr);
  EXPECT_EQ(*bus->Submit(keyed("pay-42")), first);
  EXPECT_NE(*bus->Submit(keyed("pay-43")), first);
  EXPECT_EQ(bus->List(ListQuery{.key = "k"})->records.size(), 2u);
}

}  // namespace
}  // namespace cmdq

namespace cmdq {
namespace {

// The shape of W1.sat over HTTP, in process: producers submit batches to a durable bus,
// remote workers lease batches and finish them with one call each. Nothing is lost or
// finished twice.
TEST(DurableRemote, BatchedProducersAndWorkersLoseNothing) {
  TempDir dir;
  auto bus = StartRemoteBus(dir.path());
  ASSERT_NE(bus, nullptr);
  constexpr int kBatch = 256;
  constexpr int kPerProducer = 16 * kBatch;
  std::atomic<int> finished{0};
  std::atomic<bool> stop{false};
  auto produce = [&](int p) {
    for (int i = 0; i < kPerProducer; i += kBatch) {
      std::vector<Command> batch(kBatch);
      for (int j = 0; j < kBatch; ++j) {
        batch[j].type = kType;
        batch[j].key = "user-" + std::to_string((i + j) * 7 % 1000) + "-" + std::to_string(p);
        batch[j].payload.assign(1024, 'x');
      }
      for (auto& r : bus->SubmitBatch(std::move(batch))) ASSERT_TRUE(r.has_value());
    }
  };
  auto work = [&](int w) {
    while (!stop.load()) {
      auto got =
          bus->Lease({.types = {kType}, .max = kBatch, .worker = "w" + std::to_string(w)}, 5ms);
      ASSERT_TRUE(got.has_value());
      std::vector<RemoteOutcome> outs;
      for (auto& g : *got) outs.push_back({.id = g.command->id, .token = g.token, .result = "ok"});
      for (const Status& s : bus->Finish(std::move(outs))) {
        ASSERT_TRUE(s.ok()) << s.ToString();
        finished.fetch_add(1);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) threads.emplace_back(work, w);
  std::thread p0(produce, 0), p1(produce, 1);
  p0.join();
  p1.join();
  for (int i = 0; i < 30'000 && finished.load() < 2 * kPerProducer; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  stop.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(finished.load(), 2 * kPerProducer);
  // Partitions settle finished commands on their own threads, just after Finish returns.
  for (int i = 0; i < 5'000 && bus->QueueDepth() != 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(bus->QueueDepth(), 0u);
}

}  // namespace
}  // namespace cmdq
