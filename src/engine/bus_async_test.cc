// The async mode: partitions, workers, retries, schedules, timeouts, backpressure, stop.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/test_util.h"

namespace cmdq {
namespace {

using namespace std::chrono_literals;
using testing::Cmd;
using testing::Eventually;
using testing::Gate;
using testing::MakeBus;
using testing::Returns;

BusOptions OnePartition(uint32_t workers = 1) {
  BusOptions o;
  o.partitions = 1;  // every key shares it: proves keys never wait for one another
  o.workers = workers;
  return o;
}

State StateOf(Bus& bus, CommandId id) { return bus.Get(id)->state; }

// A handler that waits at `gate` until the test opens it.
Handler PassesThrough(Gate& gate) {
  return Handler{.execute = [&gate](const HandlerContext&) -> Result<std::string> {
    gate.Pass();
    return std::string();
  }};
}

TEST(AsyncBus, SubmitReturnsAtOnceAndWaitGivesTheResult) {
  auto bus = MakeBus();
  ASSERT_TRUE(bus->Register("t", Returns("r")).ok());
  ASSERT_TRUE(bus->Start().ok());
  auto id = bus->Submit(Cmd("t", "k"));
  ASSERT_TRUE(id.has_value());
  auto rec = bus->Wait(*id, 5s);
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->state, State::kSucceeded);
  EXPECT_EQ(rec->result, "r");
  EXPECT_EQ(*bus->Execute(Cmd("t", "k2")), "r");
}

TEST(AsyncBus, WaitTimesOutOnAnUnfinishedCommand) {
  auto bus = MakeBus();
  Gate gate;
  ASSERT_TRUE(bus->Register("blocked",
                            Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                              gate.Pass();
                              return std::string();
                            }})
                  .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto id = bus->Submit(Cmd("blocked", "k"));
  auto rec = bus->Wait(*id, 20ms);
  ASSERT_TRUE(rec.has_value());
  EXPECT_FALSE(IsTerminal(rec->state));
  gate.Open();
  EXPECT_EQ(bus->Wait(*id, 5s)->state, State::kSucceeded);
}

TEST(AsyncBus, RetryWaitHoldsBackItsKeyButNoOtherKey) {
  ManualClock clock;
  auto bus = MakeBus(OnePartition(), &clock);
  std::mutex mu;
  std::vector<std::string> ran;
  std::atomic<bool> fail_first{true};
  ASSERT_TRUE(
      bus->Register(
             "t", Handler{.execute = [&](const HandlerContext& ctx) -> Result<std::string> {
               {
                 std::lock_guard lock(mu);
                 ran.push_back(ctx.command().payload);
               }
               if (ctx.command().payload == "a1" && fail_first.exchange(false)) {
                 return Error(Status::Unavailable("try later"));
               }
               return std::string();
             }},
             TypeOptions{.max_attempts = 3, .backoff_initial = 1s, .backoff_max = 1s, .jitter = 0})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto a1 = *bus->Submit(Cmd("t", "a", "a1"));
  auto a2 = *bus->Submit(Cmd("t", "a", "a2"));
  auto b1 = *bus->Submit(Cmd("t", "b", "b1"));
  EXPECT_EQ(bus->Wait(b1, 5s)->state, State::kSucceeded);  // b flows past a's retry wait
  ASSERT_TRUE(Eventually([&] { return StateOf(*bus, a1) == State::kFailed; }));
  EXPECT_EQ(StateOf(*bus, a2), State::kPending);
  EXPECT_GT(bus->Get(a1)->next_attempt_us, clock.NowMicros());
  clock.Advance(1'000'000);
  EXPECT_EQ(bus->Wait(a2, 5s)->state, State::kSucceeded);
  EXPECT_EQ(StateOf(*bus, a1), State::kSucceeded);
  EXPECT_EQ(bus->Get(a1)->attempt, 2u);
  std::lock_guard lock(mu);
  EXPECT_EQ(ran, (std::vector<std::string>{"a1", "b1", "a1", "a2"}));
}

TEST(AsyncBus, DeadCommandLetsItsKeyMoveOn) {
  auto bus = MakeBus(OnePartition());
  ASSERT_TRUE(
      bus->Register("bad", Handler{.execute = [](const HandlerContext&) -> Result<std::string> {
                      return Error(Status::FailedPrecondition("never"));
                    }})
          .ok());
  ASSERT_TRUE(bus->Register("ok", Returns("")).ok());
  ASSERT_TRUE(bus->Start().ok());
  auto dead = *bus->Submit(Cmd("bad", "k"));
  auto next = *bus->Submit(Cmd("ok", "k"));
  EXPECT_EQ(bus->Wait(next, 5s)->state, State::kSucceeded);
  EXPECT_EQ(StateOf(*bus, dead), State::kDead);
}

TEST(AsyncBus, ParkedKeyWaitsForTheRedriveOfItsDeadHead) {
  auto bus = MakeBus(OnePartition());
  std::atomic<bool> healthy{false};
  ASSERT_TRUE(bus->Register("t",
                            Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                              if (!healthy) return Error(Status::Unavailable("down"));
                              return std::string("up");
                            }},
                            TypeOptions{.max_attempts = 1, .park_key_on_dead = true})
                  .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto first = *bus->Submit(Cmd("t", "k"));
  ASSERT_TRUE(Eventually([&] { return StateOf(*bus, first) == State::kDead; }));
  auto second = *bus->Submit(Cmd("t", "k"));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(StateOf(*bus, second), State::kPending);
  healthy = true;
  ASSERT_TRUE(bus->Redrive(first).ok());
  EXPECT_EQ(bus->Wait(second, 5s)->state, State::kSucceeded);
  EXPECT_EQ(StateOf(*bus, first), State::kSucceeded);
  EXPECT_EQ(bus->Get(first)->attempt, 2u);
}

TEST(AsyncBus, RedriveGivesAFreshAttemptBudget) {
  auto bus = MakeBus();
  std::atomic<int> calls{0};
  ASSERT_TRUE(
      bus->Register("t", Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                      if (++calls < 4) return Error(Status::Unavailable("down"));
                      return std::string("up");
                    }},
                    TypeOptions{.max_attempts = 2, .backoff_initial = 1ms, .backoff_max = 1ms})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto id = *bus->Submit(Cmd("t", "k"));
  EXPECT_EQ(bus->Wait(id, 5s)->state, State::kDead);
  EXPECT_EQ(bus->Redrive(CommandId(12345)).code(), StatusCode::kNotFound);
  ASSERT_TRUE(bus->Redrive(id).ok());
  auto rec = bus->Wait(id, 5s);
  EXPECT_EQ(rec->state, State::kSucceeded);
  EXPECT_EQ(rec->attempt, 4u);
  EXPECT_EQ(bus->Redrive(id).code(), StatusCode::kFailedPrecondition);
}

TEST(AsyncBus, ScheduledCommandRunsWhenItsTimeComes) {
  ManualClock clock;
  auto bus = MakeBus({}, &clock);
  ASSERT_TRUE(bus->Register("t", Returns("")).ok());
  ASSERT_TRUE(bus->Start().ok());
  Command c = Cmd("t", "k");
  c.not_before_us = clock.NowMicros() + 60'000'000;
  auto id = *bus->Submit(c);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(StateOf(*bus, id), State::kScheduled);
  clock.Advance(60'000'000);
  EXPECT_EQ(bus->Wait(id, 5s)->state, State::kSucceeded);
}

TEST(AsyncBus, TimeoutStopsTheHandlerThroughItsStopToken) {
  auto bus = MakeBus();
  std::atomic<int> stopped{0};
  ASSERT_TRUE(
      bus->Register(
             "slow", Handler{.execute = [&](const HandlerContext& ctx) -> Result<std::string> {
               std::stop_token tok = ctx.stop_token();
               while (!tok.stop_requested()) std::this_thread::sleep_for(1ms);
               ++stopped;
               return Error(Status::DeadlineExceeded("gave up"));
             }},
             TypeOptions{
                 .max_attempts = 2, .backoff_initial = 1ms, .backoff_max = 1ms, .timeout = 30ms})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto id = *bus->Submit(Cmd("slow", "k"));
  auto rec = bus->Wait(id, 10s);
  EXPECT_EQ(rec->state, State::kDead);
  EXPECT_EQ(rec->attempt, 2u);
  EXPECT_EQ(stopped.load(), 2);
}

// A started one-partition bus that fails fast past `capacity`; type "t" waits at `gate`.
std::unique_ptr<Bus> StartFailFastBus(uint32_t capacity, Gate& gate) {
  BusOptions o = OnePartition();
  o.queue_capacity = capacity;
  o.backpressure = Backpressure::kFailFast;
  auto bus = MakeBus(o);
  EXPECT_TRUE(bus->Register("t", PassesThrough(gate)).ok());
  EXPECT_TRUE(bus->Start().ok());
  return bus;
}

TEST(AsyncBus, FailFastBackpressureRefusesWhenThePartitionIsFull) {
  Gate gate;
  auto bus = StartFailFastBus(2, gate);
  ASSERT_TRUE(bus->Submit(Cmd("t", "a")).has_value());
  ASSERT_TRUE(bus->Submit(Cmd("t", "b")).has_value());
  auto refused = bus->Submit(Cmd("t", "c"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(bus->List(ListQuery{})->records.size(), 2u);  // the refused one left no trace
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return bus->QueueDepth() == 0; }));
  EXPECT_TRUE(bus->Submit(Cmd("t", "c")).has_value());
}

// A handler that submits more than its partition has room for runs on the worker that
// holds that partition: waiting for room there would wait forever. Its submits go past
// the bound; other producers still wait.
TEST(AsyncBus, AHandlerSubmittingPastTheBoundIsNeverHeldBack) {
  BusOptions o = OnePartition();
  o.queue_capacity = 2;
  auto bus = MakeBus(o);
  std::atomic<int> children{0};
  std::atomic<int> refused{0};
  ASSERT_TRUE(
      bus->Register("child", Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                      ++children;
                      return std::string();
                    }})
          .ok());
  ASSERT_TRUE(
      bus->Register("fanout",
                    Handler{.execute = [&](const HandlerContext& ctx) -> Result<std::string> {
                      for (int i = 0; i < 10; ++i) {
                        // Its own key (queued behind it) and others, all in its partition.
                        const std::string key = i % 2 == 0 ? ctx.command().key : "other";
                        if (!bus->Submit(Cmd("child", key))) ++refused;
                      }
                      return std::string();
                    }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto parent = bus->Submit(Cmd("fanout", "k"));
  ASSERT_TRUE(parent.has_value());
  auto done = bus->Wait(*parent, 10s);
  ASSERT_TRUE(done.has_value()) << done.error().ToString();
  EXPECT_EQ(done->state, State::kSucceeded);
  ASSERT_TRUE(Eventually([&] { return children.load() == 10; })) << children.load();
  EXPECT_EQ(refused.load(), 0);
  ASSERT_TRUE(Eventually([&] { return bus->QueueDepth() == 0; }));
}

// A producer waiting for room that never comes (its partition holds commands scheduled
// for later) must not hold up a draining Stop: it is refused, and the Stop returns.
TEST(AsyncBus, ADrainingStopRefusesAProducerWaitingForRoom) {
  BusOptions o = OnePartition();
  o.queue_capacity = 4;
  auto bus = MakeBus(o);
  ASSERT_TRUE(bus->Register("t", Returns("")).ok());
  ASSERT_TRUE(bus->Start().ok());
  const int64_t in_an_hour = SystemClock()->NowMicros() + 3'600'000'000;
  for (uint32_t i = 0; i < o.queue_capacity; ++i) {
    Command c = Cmd("t", "later");
    c.not_before_us = in_an_hour;
    ASSERT_TRUE(bus->Submit(std::move(c)).has_value());
  }
  auto waiting = std::async(std::launch::async, [&] { return bus->Submit(Cmd("t", "now")); });
  ASSERT_EQ(waiting.wait_for(100ms), std::future_status::timeout) << "the partition had room";
  auto stop = std::async(std::launch::async, [&] { return bus->Stop(StopMode::kDrain); });
  if (stop.wait_for(10s) != std::future_status::ready) {
    ADD_FAILURE() << "Stop(kDrain) waits for a submit that waits for room";
    std::_Exit(1);  // the bus cannot be torn down: end the test binary, failed
  }
  auto refused = waiting.get();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(stop.get().left.size(), o.queue_capacity);  // the scheduled ones
}

// A submit refused for want of room was never stored: its idempotency key must not
// answer the retry with the refused command's id.
TEST(AsyncBus, ASubmitRefusedForRoomLeavesItsIdempotencyKeyFree) {
  Gate gate;
  auto bus = StartFailFastBus(1, gate);
  ASSERT_TRUE(bus->Submit(Cmd("t", "a")).has_value());
  Command keyed = Cmd("t", "b");
  keyed.idempotency_key = "once";
  auto refused = bus->Submit(Command(keyed));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kResourceExhausted);
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return bus->QueueDepth() == 0; }));
  auto retried = bus->Submit(Command(keyed));
  ASSERT_TRUE(retried.has_value()) << retried.error().ToString();
  EXPECT_TRUE(bus->Get(*retried).has_value()) << "the retry got an id never stored";
  EXPECT_EQ(*bus->Submit(Command(keyed)), *retried);  // and the key holds from then on
}

// A blocking batch bigger than its partition's room must not wait for room that only
// its own commands hold: it stores and queues what it has, then waits for the workers.
TEST(AsyncBus, ABlockingBatchBiggerThanThePartitionWaitsForWorkersNotForItself) {
  BusOptions o = OnePartition();
  o.queue_capacity = 3;
  auto bus = MakeBus(o);
  std::mutex mu;
  std::vector<std::string> ran;
  ASSERT_TRUE(
      bus->Register("t", Handler{.execute = [&](const HandlerContext& ctx) -> Result<std::string> {
                      std::lock_guard lock(mu);
                      ran.push_back(ctx.command().payload);
                      return std::string();
                    }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  std::vector<Command> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(Cmd("t", "k", std::to_string(i)));
  auto results = bus->SubmitBatch(std::move(batch));
  ASSERT_EQ(results.size(), 10u);
  for (auto& r : results) ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(Eventually([&] { return bus->QueueDepth() == 0; }));
  bus->Stop(StopMode::kDrain);
  std::vector<std::string> want;
  for (int i = 0; i < 10; ++i) want.push_back(std::to_string(i));
  EXPECT_EQ(ran, want);  // one key: submit order
}

// TrySubmitBatch is the event loop's submit: all of a batch or, when a partition is
// full, none of it, with the commands handed back untouched and their keys unclaimed.
TEST(AsyncBus, TrySubmitBatchTakesAllOrNoneAndNeverBlocks) {
  BusOptions o = OnePartition();
  o.queue_capacity = 3;  // kBlock: SubmitBatch would wait for room
  auto bus = MakeBus(o);
  Gate gate;
  ASSERT_TRUE(bus->Register("t", PassesThrough(gate)).ok());
  ASSERT_TRUE(bus->Start().ok());
  std::vector<Command> first{Cmd("t", "a", "1"), Cmd("t", "b", "2")};
  auto taken = bus->TrySubmitBatch(first);
  ASSERT_TRUE(taken.has_value());
  ASSERT_EQ(taken->size(), 2u);
  EXPECT_TRUE((*taken)[0].has_value() && (*taken)[1].has_value());

  // One slot is left; two commands (one bad, one with an idempotency key) need more.
  Command keyed = Cmd("t", "c", "3");
  keyed.idempotency_key = "once";
  std::vector<Command> second{Cmd("no.such.type", "x"), keyed, Cmd("t", "d", "4")};
  EXPECT_FALSE(bus->TrySubmitBatch(second).has_value());
  ASSERT_EQ(second.size(), 3u);
  EXPECT_EQ(second[0].type, "no.such.type");  // even a refused command is given back
  EXPECT_EQ(second[1].payload, "3");
  EXPECT_EQ(second[1].idempotency_key, "once");
  EXPECT_FALSE(second[1].id.valid());
  EXPECT_EQ(second[2].payload, "4");
  EXPECT_EQ(bus->List(ListQuery{})->records.size(), 2u);  // nothing of it was stored

  // Once there is room, the same commands go in, and the key names a new command.
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return bus->QueueDepth() == 0; }));
  auto now = bus->TrySubmitBatch(second);
  ASSERT_TRUE(now.has_value());
  EXPECT_FALSE((*now)[0].has_value());
  ASSERT_TRUE((*now)[1].has_value());
  ASSERT_TRUE((*now)[2].has_value());
  EXPECT_EQ(bus->Wait(*(*now)[1], 5s)->command.payload, "3");
  EXPECT_EQ(bus->List(ListQuery{})->records.size(), 4u);
}

TEST(AsyncBus, TrySubmitBatchLeavesSyncModeSubmitsToTheBlockingPath) {
  BusOptions o;
  o.mode = Mode::kSync;
  auto bus = MakeBus(o);
  ASSERT_TRUE(bus->Register("t", Returns("r")).ok());
  ASSERT_TRUE(bus->Start().ok());
  std::vector<Command> commands{Cmd("t", "a")};
  EXPECT_FALSE(bus->TrySubmitBatch(commands).has_value());
  EXPECT_EQ(commands[0].type, "t");
  EXPECT_EQ(bus->mode(), Mode::kSync);
}

TEST(AsyncBus, BlockingBackpressureWaitsForRoom) {
  BusOptions o = OnePartition();
  o.queue_capacity = 1;
  auto bus = MakeBus(o);
  Gate gate;
  ASSERT_TRUE(bus->Register("t", PassesThrough(gate)).ok());
  ASSERT_TRUE(bus->Start().ok());
  ASSERT_TRUE(bus->Submit(Cmd("t", "a")).has_value());
  std::atomic<bool> second_done{false};
  std::thread producer([&] {
    EXPECT_TRUE(bus->Submit(Cmd("t", "b")).has_value());
    second_done = true;
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(second_done.load());
  gate.Open();
  producer.join();
  EXPECT_TRUE(second_done.load());
}

TEST(AsyncBus, UnorderedTypeKeepsItsPerKeyConcurrencyLimit) {
  BusOptions o;
  o.workers = 4;
  auto bus = MakeBus(o);
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  ASSERT_TRUE(bus->Register("u",
                            Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                              const int now = ++running;
                              int p = peak.load();
                              while (now > p && !peak.compare_exchange_weak(p, now)) {
                              }
                              std::this_thread::sleep_for(2ms);
                              --running;
                              return std::string();
                            }},
                            TypeOptions{.ordered = false, .max_concurrency_per_key = 2})
                  .ok());
  ASSERT_TRUE(bus->Start().ok());
  std::vector<CommandId> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(*bus->Submit(Cmd("u", "same")));
  for (CommandId id : ids) EXPECT_EQ(bus->Wait(id, 10s)->state, State::kSucceeded);
  EXPECT_LE(peak.load(), 2);
  EXPECT_GE(peak.load(), 1);
}

TEST(AsyncBus, DrainingStopRunsWhatIsRunnableAndReportsTheScheduled) {
  ManualClock clock;
  auto bus = MakeBus({}, &clock);
  std::atomic<int> ran{0};
  ASSERT_TRUE(
      bus->Register("t", Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                      ++ran;
                      return std::string();
                    }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(bus->Submit(Cmd("t", std::to_string(i))).has_value());
  Command later = Cmd("t", "later");
  later.not_before_us = clock.NowMicros() + 3'600'000'000;
  auto later_id = *bus->Submit(later);
  StopReport report = bus->Stop(StopMode::kDrain);
  EXPECT_EQ(ran.load(), 100);
  ASSERT_EQ(report.left.size(), 1u);
  EXPECT_EQ(report.left[0], later_id);
  EXPECT_EQ(StateOf(*bus, later_id), State::kScheduled);
}

TEST(AsyncBus, StopNowLeavesQueuedCommandsAndReportsThem) {
  auto bus = MakeBus(OnePartition());
  std::atomic<int> ran{0};
  ASSERT_TRUE(
      bus->Register("t", Handler{.execute = [&](const HandlerContext& ctx) -> Result<std::string> {
                      ++ran;
                      // Until Stop(kNow) tells it to stop, which it does only after it
                      // stopped the workers taking more: no timing to race.
                      while (!ctx.expired()) std::this_thread::sleep_for(1ms);
                      return std::string();
                    }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bus->Submit(Cmd("t", "k")).has_value());
  ASSERT_TRUE(Eventually([&] { return ran.load() == 1; }));
  StopReport report = bus->Stop(StopMode::kNow);
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(report.left.size(), 9u);
}

TEST(AsyncBus, ListAndAuditServeTheRecords) {
  auto bus = MakeBus();
  ASSERT_TRUE(bus->Register("t", Returns("")).ok());
  ASSERT_TRUE(bus->Start().ok());
  std::vector<CommandId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(*bus->Submit(Cmd("t", "user-1")));
  ASSERT_TRUE(bus->Submit(Cmd("t", "user-2")).has_value());
  for (CommandId id : ids) bus->Wait(id, 5s);
  auto page = bus->List(ListQuery{.key = "user-1", .limit = 3});
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->records.size(), 3u);
  EXPECT_EQ(page->records[0].command.id, ids[4]);  // newest first
  auto rest = bus->List(ListQuery{.key = "user-1", .before = page->next_cursor, .limit = 3});
  ASSERT_EQ(rest->records.size(), 2u);
  EXPECT_EQ(rest->records[1].command.id, ids[0]);
  auto audit = bus->Audit(ids[0]);
  ASSERT_EQ(audit->size(), 3u);
  EXPECT_EQ((*audit)[1].worker.rfind("worker-", 0), 0u);
}

}  // namespace
}  // namespace cmdq
