// The sync mode: the handler runs in the caller's thread, retries included.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "engine/test_util.h"

namespace cmdq {
namespace {

using testing::Cmd;
using testing::MakeBus;
using testing::Returns;

std::unique_ptr<Bus> SyncBus(Clock* clock = SystemClock()) {
  BusOptions o;
  o.mode = Mode::kSync;
  return MakeBus(o, clock);
}

// Executes a command of a type with a 20 ms timeout whose handler runs `until_late`,
// then returns a result as if in time; the error it must be judged to have.
Result<std::string> ExecuteLate(Bus& bus, std::function<void(const HandlerContext&)> until_late) {
  EXPECT_TRUE(
      bus.Register("slow",
                   Handler{.execute = [&](const HandlerContext& ctx) -> Result<std::string> {
                     until_late(ctx);
                     return std::string("late");
                   }},
                   TypeOptions{.max_attempts = 1, .timeout = std::chrono::milliseconds(20)})
          .ok());
  EXPECT_TRUE(bus.Start().ok());
  return bus.Execute(Cmd("slow", "k"));
}

TypeOptions FastRetries(uint32_t attempts) {
  return TypeOptions{.max_attempts = attempts,
                     .backoff_initial = std::chrono::milliseconds(1),
                     .backoff_max = std::chrono::milliseconds(2)};
}

TEST(SyncBus, ExecuteReturnsTheHandlersResultInTheCallersThread) {
  auto bus = SyncBus();
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  ASSERT_TRUE(
      bus->Register("echo",
                    Handler{.execute = [&](const HandlerContext& ctx) -> Result<std::string> {
                      ran_on = std::this_thread::get_id();
                      return "got " + ctx.command().payload;
                    }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto r = bus->Execute(Cmd("echo", "k", "hi"));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, "got hi");
  EXPECT_EQ(ran_on, caller);
}

TEST(SyncBus, RecordsTheCommandWithItsAudit) {
  auto bus = SyncBus();
  ASSERT_TRUE(bus->Register("t", Returns("r")).ok());
  ASSERT_TRUE(bus->Start().ok());
  auto id = bus->Submit(Cmd("t", "k"));
  ASSERT_TRUE(id.has_value());
  auto rec = bus->Get(*id);
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->state, State::kSucceeded);
  EXPECT_EQ(rec->result, "r");
  EXPECT_EQ(rec->attempt, 1u);
  auto audit = bus->Audit(*id);
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 3u);
  EXPECT_EQ((*audit)[0].to, State::kPending);
  EXPECT_EQ((*audit)[1].to, State::kRunning);
  EXPECT_EQ((*audit)[2].to, State::kSucceeded);
}

TEST(SyncBus, RetriesUntilSuccess) {
  auto bus = SyncBus();
  std::atomic<int> calls{0};
  ASSERT_TRUE(
      bus->Register("flaky",
                    Handler{.execute = [&](const HandlerContext& ctx) -> Result<std::string> {
                      ++calls;
                      if (ctx.attempt() < 3) return Error(Status::Unavailable("not yet"));
                      return std::string("done");
                    }},
                    FastRetries(5))
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto id = bus->Submit(Cmd("flaky", "k"));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(calls.load(), 3);
  auto rec = bus->Get(*id);
  EXPECT_EQ(rec->state, State::kSucceeded);
  EXPECT_EQ(rec->attempt, 3u);
  auto audit = bus->Audit(*id);
  // pending, (running, failed, pending) x2, running, succeeded
  EXPECT_EQ(audit->size(), 1u + 3u * 2 + 2u);
}

TEST(SyncBus, GoesDeadAfterMaxAttemptsAndReturnsTheError) {
  auto bus = SyncBus();
  std::atomic<int> calls{0};
  ASSERT_TRUE(bus->Register("bad",
                            Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                              ++calls;
                              return Error(Status::Unavailable("down"));
                            }},
                            FastRetries(3))
                  .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto r = bus->Execute(Cmd("bad", "k"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("down"), std::string::npos);
  EXPECT_EQ(calls.load(), 3);
}

TEST(SyncBus, PermanentErrorGoesDeadAtOnce) {
  auto bus = SyncBus();
  std::atomic<int> calls{0};
  ASSERT_TRUE(bus->Register("bad",
                            Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                              ++calls;
                              return Error(Status::InvalidArgument("payload", "bad payload"));
                            }},
                            FastRetries(5))
                  .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto id = bus->Submit(Cmd("bad", "k"));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(bus->Get(*id)->state, State::kDead);
}

TEST(SyncBus, AttemptPastItsTimeoutFails) {
  auto bus = SyncBus();
  auto r = ExecuteLate(*bus, [](const HandlerContext& ctx) {
    while (!ctx.expired()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("timeout"), std::string::npos) << r.error().ToString();
}

TEST(SyncBus, AttemptThatEndsAtItsDeadlineHasTimedOut) {
  // The handler sees expired() at the deadline's own microsecond; it must not then be
  // judged in time.
  ManualClock clock;
  auto bus = SyncBus(&clock);
  auto r = ExecuteLate(*bus, [&](const HandlerContext& ctx) {
    clock.Advance(20'000);
    EXPECT_TRUE(ctx.expired());
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("ran past its timeout"), std::string::npos)
      << r.error().ToString();
}

TEST(SyncBus, HandlerExceptionBecomesAnError) {
  auto bus = SyncBus();
  ASSERT_TRUE(bus->Register("throws",
                            Handler{.execute = [](const HandlerContext&) -> Result<std::string> {
                              throw std::runtime_error("boom");
                            }},
                            TypeOptions{.max_attempts = 1})
                  .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto r = bus->Execute(Cmd("throws", "k"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("boom"), std::string::npos);
}

TEST(SyncBus, IdempotencyKeyReturnsTheOriginalCommand) {
  auto bus = SyncBus();
  std::atomic<int> calls{0};
  ASSERT_TRUE(
      bus->Register("t", Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                      ++calls;
                      return std::string();
                    }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  Command c = Cmd("t", "k");
  c.idempotency_key = "once";
  auto a = bus->Submit(c);
  auto b = bus->Submit(c);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(calls.load(), 1);
}

TEST(SyncBus, ScheduledCommandCancelledWhileItWaitsNeverRuns) {
  // Its time comes only when the test moves the clock, after the cancel: no race.
  ManualClock clock;
  auto bus = SyncBus(&clock);
  std::atomic<int> calls{0};
  ASSERT_TRUE(
      bus->Register("t", Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                      ++calls;
                      return std::string();
                    }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  Command c = Cmd("t", "k");
  c.not_before_us = clock.NowMicros() + 200'000;
  std::thread caller([&] {
    auto r = bus->Execute(std::move(c));
    EXPECT_FALSE(r.has_value());
  });
  ASSERT_TRUE(testing::Eventually([&] {
    auto page = bus->List(ListQuery{.state = State::kScheduled});
    return page && !page->records.empty();
  }));
  const CommandId id = bus->List(ListQuery{.state = State::kScheduled})->records[0].command.id;
  ASSERT_TRUE(bus->Cancel(id).ok());
  clock.Advance(300'000);
  caller.join();
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(bus->Get(id)->state, State::kCancelled);
}

// A re-driven command is visible (pending) before its handler runs: a cancel must not
// land while the handler runs, or the handler's work is done and the record says
// cancelled.
TEST(SyncBus, ACancelWhileAReDrivenCommandRunsIsRefused) {
  auto bus = SyncBus();
  std::atomic<int> calls{0};
  testing::Gate gate;
  ASSERT_TRUE(bus->Register("t",
                            Handler{.execute = [&](const HandlerContext&) -> Result<std::string> {
                              if (calls.fetch_add(1) == 0) {
                                return Error(Status::InvalidArgument("payload", "dead at once"));
                              }
                              gate.Pass();
                              return std::string("done");
                            }},
                            TypeOptions{.max_attempts = 1})
                  .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto id = bus->Submit(Cmd("t", "k"));
  ASSERT_TRUE(id.has_value());
  ASSERT_EQ(bus->Get(*id)->state, State::kDead);
  std::thread redrive([&] { EXPECT_TRUE(bus->Redrive(*id).ok()); });
  ASSERT_TRUE(testing::Eventually([&] { return calls.load() == 2; }));
  const Status cancel = bus->Cancel(*id);
  gate.Open();
  redrive.join();
  EXPECT_EQ(cancel.code(), StatusCode::kFailedPrecondition) << cancel.ToString();
  EXPECT_EQ(bus->Get(*id)->state, State::kSucceeded);
}

TEST(SyncBus, UndoRunsTheUndoHandlerAndRecordsUndone) {
  auto bus = SyncBus();
  std::string undone_result;
  ASSERT_TRUE(
      bus->Register("t", Handler{.execute = [](const HandlerContext&) -> Result<std::string> {
                                   return std::string("r1");
                                 },
                                 .undo =
                                     [&](const HandlerContext&, std::string_view r) {
                                       undone_result = std::string(r);
                                       return Status::Ok();
                                     }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  auto id = bus->Submit(Cmd("t", "k"));
  ASSERT_TRUE(bus->Undo(*id).ok());
  EXPECT_EQ(undone_result, "r1");
  EXPECT_EQ(bus->Get(*id)->state, State::kUndone);
  EXPECT_EQ(bus->Undo(*id).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cmdq
