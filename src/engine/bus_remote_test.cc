// Remote workers: leases, outcomes, expiry, heartbeats, long-polls and watches.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cmdq/bus.h"
#include "core/partitioner.h"
#include "engine/test_util.h"

namespace cmdq {
namespace {

using namespace std::chrono_literals;
using testing::Cmd;
using testing::Eventually;
using testing::MakeBus;

constexpr char kType[] = "remote.job";

TypeOptions FastRetry(uint32_t attempts = 3) {
  TypeOptions o;
  o.max_attempts = attempts;
  o.backoff_initial = 1ms;
  o.backoff_max = 1ms;
  o.timeout = 0ms;
  return o;
}

std::unique_ptr<Bus> RemoteBus(TypeOptions type = FastRetry(), BusOptions options = {},
                               Clock* clock = SystemClock()) {
  options.workers = 2;
  options.partitions = 8;
  auto bus = MakeBus(std::move(options), clock);
  EXPECT_TRUE(bus->RegisterRemote(kType, type).ok());
  EXPECT_TRUE(bus->Start().ok());
  return bus;
}

LeaseAsk Ask(uint32_t max = 100, std::string worker = "w1") {
  return LeaseAsk{.types = {kType}, .max = max, .worker = std::move(worker)};
}

// Leases until `n` commands came or 5 s passed.
std::vector<LeaseGrant> LeaseN(Bus& bus, size_t n, LeaseAsk ask = Ask()) {
  std::vector<LeaseGrant> all;
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (all.size() < n && std::chrono::steady_clock::now() < end) {
    auto got = bus.Lease(ask, 50ms);
    EXPECT_TRUE(got.has_value()) << got.error().ToString();
    if (!got) break;
    for (auto& g : *got) all.push_back(std::move(g));
  }
  return all;
}

RemoteOutcome Done(const LeaseGrant& g, std::string result = "ok") {
  return RemoteOutcome{.id = g.command->id, .token = g.token, .ok = true, .result = result};
}

RemoteOutcome Failed(const LeaseGrant& g, std::string error, bool retryable = true) {
  return RemoteOutcome{
      .id = g.command->id, .token = g.token, .ok = false, .error = error, .retryable = retryable};
}

TEST(BusRemote, LeasedCommandRunsRemotelyAndStoresItsResult) {
  auto bus = RemoteBus();
  auto id = bus->Submit(Cmd(kType, "k1", "payload-1"));
  ASSERT_TRUE(id.has_value());
  auto grants = LeaseN(*bus, 1);
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].command->id, *id);
  EXPECT_EQ(grants[0].command->payload, "payload-1");
  EXPECT_EQ(grants[0].attempt, 1u);
  EXPECT_GT(grants[0].deadline_us, 0);

  // While leased, the record says who runs it.
  auto running = bus->Get(*id);
  ASSERT_TRUE(running.has_value());
  EXPECT_EQ(running->state, State::kRunning);
  EXPECT_EQ(running->lease_worker, "w1");
  EXPECT_EQ(running->lease_expires_us, grants[0].deadline_us);

  auto st = bus->Finish({Done(grants[0], "result-1")});
  ASSERT_EQ(st.size(), 1u);
  EXPECT_TRUE(st[0].ok()) << st[0].ToString();
  auto rec = bus->Get(*id);
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->state, State::kSucceeded);
  EXPECT_EQ(rec->result, "result-1");
  EXPECT_EQ(rec->attempt, 1u);
  auto audit = bus->Audit(*id);
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 3u);  // pending, running, succeeded
  EXPECT_EQ((*audit)[1].to, State::kRunning);
  EXPECT_EQ((*audit)[1].worker, "w1");
}

TEST(BusRemote, OneKeyIsLeasedOneCommandAtATimeInSubmitOrder) {
  auto bus = RemoteBus();
  std::vector<CommandId> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(*bus->Submit(Cmd(kType, "same-key")));
  ids.push_back(*bus->Submit(Cmd(kType, "other-key")));
  auto first = LeaseN(*bus, 2);
  ASSERT_EQ(first.size(), 2u);  // the head of each key, no more
  std::set<CommandId> got{first[0].command->id, first[1].command->id};
  EXPECT_TRUE(got.contains(ids[0]));
  EXPECT_TRUE(got.contains(ids[3]));
  EXPECT_TRUE(bus->Lease(Ask(), 20ms)->empty());
  for (auto& g : first) ASSERT_TRUE(bus->Finish({Done(g)})[0].ok());
  for (size_t i = 1; i < 3; ++i) {
    auto next = LeaseN(*bus, 1);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(next[0].command->id, ids[i]);
    ASSERT_TRUE(bus->Finish({Done(next[0])})[0].ok());
  }
}

TEST(BusRemote, RetryableFailureRetriesThenGoesDead) {
  auto bus = RemoteBus(FastRetry(2));
  auto id = *bus->Submit(Cmd(kType, "k"));
  auto g1 = LeaseN(*bus, 1);
  ASSERT_EQ(g1.size(), 1u);
  ASSERT_TRUE(bus->Finish({Failed(g1[0], "boom 1")})[0].ok());
  auto g2 = LeaseN(*bus, 1);
  ASSERT_EQ(g2.size(), 1u);
  EXPECT_EQ(g2[0].attempt, 2u);
  ASSERT_TRUE(bus->Finish({Failed(g2[0], "boom 2")})[0].ok());
  ASSERT_TRUE(Eventually([&] { return bus->Get(id)->state == State::kDead; }));
  auto rec = bus->Get(id);
  EXPECT_EQ(rec->attempt, 2u);
  EXPECT_EQ(rec->error, "boom 2");  // the worker's own words
}

TEST(BusRemote, NonRetryableFailureIsDeadAtOnce) {
  auto bus = RemoteBus(FastRetry(5));
  auto id = *bus->Submit(Cmd(kType, "k"));
  auto g = LeaseN(*bus, 1);
  ASSERT_EQ(g.size(), 1u);
  ASSERT_TRUE(bus->Finish({Failed(g[0], "bad payload", /*retryable=*/false)})[0].ok());
  EXPECT_EQ(bus->Get(id)->state, State::kDead);
  EXPECT_EQ(bus->Get(id)->attempt, 1u);
}

// on_leased tells how long each leased command waited offered: what an operator watches
// to see that there are too few workers.
TEST(BusRemote, OnLeasedTellsHowLongEachCommandWaitedForAWorker) {
  std::mutex mu;
  std::vector<int64_t> waits;
  BusOptions options;
  options.on_leased = [&](std::string_view type, int64_t waited_ns) {
    EXPECT_EQ(type, kType);
    std::lock_guard lock(mu);
    waits.push_back(waited_ns);
  };
  auto bus = RemoteBus(FastRetry(), options);
  ASSERT_TRUE(bus->Submit(Cmd(kType, "a")).has_value());
  ASSERT_TRUE(bus->Submit(Cmd(kType, "b")).has_value());
  ASSERT_TRUE(Eventually([&] {  // both offered
    auto ready = std::make_shared<std::atomic<bool>>(false);
    bus->CancelLeasable(bus->OnLeasable({kType}, [ready] {
      ready->store(true);
      return true;
    }));
    return ready->load();
  }));
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(LeaseN(*bus, 2).size(), 2u);
  std::lock_guard lock(mu);
  ASSERT_EQ(waits.size(), 2u);
  for (int64_t w : waits) {
    EXPECT_GE(w, 25'000'000);      // it sat offered for the 30 ms sleep
    EXPECT_LT(w, 10'000'000'000);  // and is a duration, not a time stamp
  }
}

TEST(BusRemote, ExpiredLeaseCountsAnAttemptAndTheCommandRunsAgain) {
  ManualClock clock;
  std::atomic<int> expired{0};
  BusOptions options;
  options.on_lease_expired = [&](std::string_view type) {
    EXPECT_EQ(type, kType);
    expired.fetch_add(1);
  };
  auto bus = RemoteBus(FastRetry(3), options, &clock);
  auto id = *bus->Submit(Cmd(kType, "k"));
  LeaseAsk ask = Ask();
  ask.duration = 1000ms;
  auto g1 = LeaseN(*bus, 1, ask);
  ASSERT_EQ(g1.size(), 1u);
  clock.Advance(1'500'000);
  ASSERT_TRUE(Eventually([&] { return expired.load() == 1; }));
  // The stale worker may not finish it any more.
  auto late = bus->Finish({Done(g1[0])});
  EXPECT_EQ(late[0].code(), StatusCode::kNotFound);
  EXPECT_EQ(late[0].field(), "lease");
  clock.Advance(10'000);  // past the retry's backoff
  auto g2 = LeaseN(*bus, 1, ask);
  ASSERT_EQ(g2.size(), 1u);
  EXPECT_EQ(g2[0].attempt, 2u);
  EXPECT_NE(g2[0].token, g1[0].token);
  ASSERT_TRUE(bus->Finish({Done(g2[0])})[0].ok());
  EXPECT_EQ(bus->Get(id)->state, State::kSucceeded);
  EXPECT_EQ(bus->Get(id)->attempt, 2u);
}

TEST(BusRemote, HeartbeatKeepsTheLease) {
  ManualClock clock;
  auto bus = RemoteBus(FastRetry(), {}, &clock);
  auto id = *bus->Submit(Cmd(kType, "k"));
  LeaseAsk ask = Ask();
  ask.duration = 1000ms;
  auto g = LeaseN(*bus, 1, ask);
  ASSERT_EQ(g.size(), 1u);
  clock.Advance(800'000);
  auto extended = bus->Heartbeat(g[0].token, 0ms);
  ASSERT_TRUE(extended.has_value()) << extended.error().ToString();
  EXPECT_EQ(*extended, clock.NowMicros() + 1'000'000);
  clock.Advance(800'000);  // past the first deadline, within the extended one
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(bus->Get(id)->state, State::kRunning);
  ASSERT_TRUE(bus->Finish({Done(g[0])})[0].ok());
  EXPECT_EQ(bus->Get(id)->state, State::kSucceeded);

  auto unknown = bus->Heartbeat("0000000000000001-1-1", 0ms);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().field(), "lease");
  EXPECT_FALSE(bus->Heartbeat("garbage", 0ms).has_value());
}

TEST(BusRemote, FinishRefusesAWrongTokenAndChangesNothing) {
  auto bus = RemoteBus();
  auto id = *bus->Submit(Cmd(kType, "k"));
  auto g = LeaseN(*bus, 1);
  ASSERT_EQ(g.size(), 1u);
  RemoteOutcome wrong = Done(g[0]);
  wrong.token += "x";
  auto st = bus->Finish({wrong, Done(g[0])});
  EXPECT_EQ(st[0].code(), StatusCode::kNotFound);
  EXPECT_TRUE(st[1].ok());
  EXPECT_EQ(bus->Get(id)->state, State::kSucceeded);
  // Twice is refused too: the lease ended with the first.
  EXPECT_EQ(bus->Finish({Done(g[0])})[0].code(), StatusCode::kNotFound);
}

TEST(BusRemote, CancelRefusesALeasedCommandAndTakesWaitingOnes) {
  auto bus = RemoteBus();
  auto leased = *bus->Submit(Cmd(kType, "k"));
  auto waiting = *bus->Submit(Cmd(kType, "k"));
  auto offered = *bus->Submit(Cmd(kType, "other"));
  auto g = LeaseN(*bus, 2, Ask(1));  // one at a time: "k"'s head, then "other"
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(bus->Cancel(leased).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(bus->Cancel(waiting).ok());
  EXPECT_EQ(bus->Cancel(offered).code(), StatusCode::kFailedPrecondition);  // leased too
  for (auto& grant : g) ASSERT_TRUE(bus->Finish({Done(grant)})[0].ok());
  EXPECT_EQ(bus->Get(leased)->state, State::kSucceeded);
  EXPECT_EQ(bus->Get(waiting)->state, State::kCancelled);
  EXPECT_EQ(bus->Get(offered)->state, State::kSucceeded);
  // Offered to workers but not leased yet: cancelled, and its key moves on.
  auto unleased = *bus->Submit(Cmd(kType, "third"));
  auto behind = *bus->Submit(Cmd(kType, "third"));
  ASSERT_TRUE(Eventually([&] {  // until the broker offers it
    auto ready = std::make_shared<std::atomic<bool>>(false);
    bus->CancelLeasable(bus->OnLeasable({kType}, [ready] {
      ready->store(true);
      return true;
    }));
    return ready->load();
  }));
  EXPECT_TRUE(bus->Cancel(unleased).ok());
  EXPECT_EQ(bus->Get(unleased)->state, State::kCancelled);
  auto next = LeaseN(*bus, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].command->id, behind);
  ASSERT_TRUE(bus->Finish({Done(next[0])})[0].ok());
  EXPECT_TRUE(bus->Lease(Ask(), 20ms)->empty());
}

TEST(BusRemote, LeaseRefusesTypesThatAreNotRemote) {
  auto bus = MakeBus(BusOptions{.workers = 1});
  ASSERT_TRUE(bus->Register("local", testing::Returns("x")).ok());
  ASSERT_TRUE(bus->RegisterRemote(kType, FastRetry()).ok());
  ASSERT_TRUE(bus->Start().ok());
  for (std::vector<std::string> types :
       {std::vector<std::string>{"local"}, std::vector<std::string>{"nope"},
        std::vector<std::string>{}}) {
    auto r = bus->Lease(LeaseAsk{.types = types, .max = 1, .worker = "w"}, 0ms);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.error().field(), "types");
  }
}

// A batch's remote commands, and the next commands of the keys a worker's outcomes
// settle, are offered by the thread that stored them, not by a bus worker (whose wake-up
// costs milliseconds on a busy machine): with the only bus worker held in a handler,
// all of them are leasable as soon as the call returns.
TEST(BusRemote, BatchesAreOfferedByTheThreadThatStoredThem) {
  // The gate outlives the bus, and opens before the bus stops even when an assertion
  // returns early: the held handler must end for Stop to.
  testing::Gate gate;
  auto bus = MakeBus(BusOptions{.partitions = 8, .workers = 1});
  struct OpenAtExit {
    testing::Gate& gate;
    ~OpenAtExit() { gate.Open(); }
  } open_at_exit{gate};
  std::atomic<bool> holding{false};
  Handler hold{.execute = [&](const HandlerContext&) -> Result<std::string> {
    holding.store(true);
    gate.Pass();
    return std::string("held");
  }};
  ASSERT_TRUE(bus->Register("local", std::move(hold)).ok());
  ASSERT_TRUE(bus->RegisterRemote(kType, FastRetry()).ok());
  ASSERT_TRUE(bus->Start().ok());
  ASSERT_TRUE(bus->Submit(Cmd("local", "holder")).has_value());
  ASSERT_TRUE(Eventually([&] { return holding.load(); }));

  // Keys outside the partition the held worker owns (its tasks wait for it).
  std::vector<std::string> keys;
  for (int k = 0; keys.size() < 100; ++k) {
    std::string key = "key-" + std::to_string(k);
    if (PartitionOf(key, 8) != PartitionOf("holder", 8)) keys.push_back(std::move(key));
  }
  std::vector<Command> batch;
  for (int round = 0; round < 2; ++round) {
    for (const std::string& key : keys) batch.push_back(Cmd(kType, key));
  }
  auto ids = bus->SubmitBatch(std::move(batch));
  ASSERT_EQ(ids.size(), 2 * keys.size());
  auto first = bus->Lease(Ask(1000), 0ms);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->size(), keys.size());  // each key's first command

  std::vector<RemoteOutcome> outcomes;
  for (const LeaseGrant& g : *first) outcomes.push_back(Done(g));
  for (const Status& s : bus->Finish(std::move(outcomes))) EXPECT_TRUE(s.ok()) << s.ToString();
  auto second = bus->Lease(Ask(1000), 0ms);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->size(), keys.size());  // and then each key's second

  // A batch that also puts an in-process command in the remote one's partition: the
  // remote one is still offered at once, not after a worker has run the other.
  const std::string remote_key = "fresh-" + keys[0];  // no command of it is leased
  std::string local_key;
  for (int k = 0; local_key.empty(); ++k) {
    std::string key = "local-" + std::to_string(k);
    if (PartitionOf(key, 8) == PartitionOf(remote_key, 8)) local_key = std::move(key);
  }
  ASSERT_NE(PartitionOf(remote_key, 8), PartitionOf("holder", 8));
  std::vector<Command> mixed;
  mixed.push_back(Cmd(kType, remote_key));
  mixed.push_back(Cmd("local", local_key));
  ASSERT_EQ(bus->SubmitBatch(std::move(mixed)).size(), 2u);
  auto third = bus->Lease(Ask(1000), 0ms);
  ASSERT_TRUE(third.has_value());
  ASSERT_EQ(third->size(), 1u);
  EXPECT_EQ(third->front().command->key, remote_key);
}

TEST(BusRemote, RemoteTypesNeedAnAsyncMode) {
  auto bus = MakeBus(BusOptions{.mode = Mode::kSync});
  EXPECT_EQ(bus->RegisterRemote(kType, FastRetry()).code(), StatusCode::kFailedPrecondition);
}

TEST(BusRemote, LongPollAnswersWhenACommandArrives) {
  auto bus = RemoteBus();
  std::thread submitter([&] {
    std::this_thread::sleep_for(30ms);
    ASSERT_TRUE(bus->Submit(Cmd(kType, "k")).has_value());
  });
  const auto start = std::chrono::steady_clock::now();
  auto got = bus->Lease(Ask(), 5s);
  submitter.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST(BusRemote, OnLeasableFiresWhenOfferedAndAtOnceWhenWaiting) {
  auto bus = RemoteBus();
  std::atomic<int> fired{0};
  auto count = [&](int n) {
    return [&fired, n] {
      fired.fetch_add(n);
      return true;
    };
  };
  const uint64_t ticket = bus->OnLeasable({kType}, count(1));
  EXPECT_NE(ticket, 0u);
  EXPECT_EQ(fired.load(), 0);
  ASSERT_TRUE(bus->Submit(Cmd(kType, "k")).has_value());
  ASSERT_TRUE(Eventually([&] { return fired.load() == 1; }));
  // One waits now: a new listener is told at once.
  EXPECT_EQ(bus->OnLeasable({kType}, count(1)), 0u);
  EXPECT_EQ(fired.load(), 2);
  // A cancelled listener is never called.
  auto g = LeaseN(*bus, 1);
  const uint64_t t2 = bus->OnLeasable({kType}, count(100));
  bus->CancelLeasable(t2);
  ASSERT_TRUE(bus->Submit(Cmd(kType, "k2")).has_value());
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(fired.load(), 2);
  bus->CancelLeasable(ticket);
}

// Many idle workers, one command: one of them is woken, not all (each woken worker
// would answer its client with an empty lease). A woken waiter that is gone, or that
// leaves the command behind, passes the wake-up on.
TEST(BusRemote, AnOfferWakesOneWaiterAndUnusedWakeUpsPassOn) {
  auto bus = RemoteBus();
  std::atomic<int> a{0}, b{0}, c{0};
  auto counter = [](std::atomic<int>& n, bool there) {
    return [&n, there] {
      n.fetch_add(1);
      return there;
    };
  };
  const uint64_t ta = bus->OnLeasable({kType}, counter(a, /*there=*/false));  // gone
  const uint64_t tb = bus->OnLeasable({kType}, counter(b, true));
  const uint64_t tc = bus->OnLeasable({kType}, counter(c, true));
  ASSERT_TRUE(bus->Submit(Cmd(kType, "k")).has_value());
  ASSERT_TRUE(Eventually([&] { return b.load() == 1; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(a.load(), 1);  // tried first, and gone
  EXPECT_EQ(c.load(), 0);  // not woken for a command that b takes
  // b does not lease it: cancelling its woken listener wakes c.
  bus->CancelLeasable(tb);
  ASSERT_TRUE(Eventually([&] { return c.load() == 1; }));
  // c leases it; its cancel then passes nothing on.
  ASSERT_EQ(LeaseN(*bus, 1).size(), 1u);
  const uint64_t td = bus->OnLeasable({kType}, counter(a, true));
  bus->CancelLeasable(tc);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(a.load(), 1);
  bus->CancelLeasable(td);
  bus->CancelLeasable(ta);
}

// A woken waiter of several types that leaves a command behind passes the wake-up to a
// waiter of that command's type, not to one of a type with nothing offered.
TEST(BusRemote, APassedOnWakeUpGoesToAWaiterOfTheLeftCommandsType) {
  BusOptions options;
  options.workers = 2;
  options.partitions = 8;
  auto bus = MakeBus(std::move(options));
  ASSERT_TRUE(bus->RegisterRemote("type.a", FastRetry()).ok());
  ASSERT_TRUE(bus->RegisterRemote("type.b", FastRetry()).ok());
  ASSERT_TRUE(bus->Start().ok());
  std::atomic<int> both{0}, only_a{0}, only_b{0};
  auto counter = [](std::atomic<int>& n) {
    return [&n] {
      n.fetch_add(1);
      return true;
    };
  };
  const uint64_t t_both = bus->OnLeasable({"type.a", "type.b"}, counter(both));
  const uint64_t t_a = bus->OnLeasable({"type.a"}, counter(only_a));
  const uint64_t t_b = bus->OnLeasable({"type.b"}, counter(only_b));
  ASSERT_TRUE(bus->Submit(Cmd("type.b", "k")).has_value());
  ASSERT_TRUE(Eventually([&] { return both.load() == 1; }));
  bus->CancelLeasable(t_both);  // without leasing it
  ASSERT_TRUE(Eventually([&] { return only_b.load() == 1; }));
  EXPECT_EQ(only_a.load(), 0);
  bus->CancelLeasable(t_a);
  bus->CancelLeasable(t_b);
}

TEST(BusRemote, WatchFiresOnceWhenTheCommandIsTerminal) {
  auto bus = RemoteBus();
  auto id = *bus->Submit(Cmd(kType, "k"));
  std::atomic<int> fired{0};
  bus->Watch(id, [&] { fired.fetch_add(1); });
  const uint64_t unwatched = bus->Watch(id, [&] { fired.fetch_add(100); });
  bus->Unwatch(id, unwatched);
  auto g = LeaseN(*bus, 1);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(fired.load(), 0);
  ASSERT_TRUE(bus->Finish({Done(g[0])})[0].ok());
  EXPECT_EQ(fired.load(), 1);
}

TEST(BusRemote, StopHandsBackWhatIsLeasedOrWaiting) {
  BusOptions options;
  options.lease_drain_wait = 50ms;
  auto bus = RemoteBus(FastRetry(), options);
  auto leased_id = *bus->Submit(Cmd(kType, "a"));
  auto waiting_id = *bus->Submit(Cmd(kType, "a"));
  auto g = LeaseN(*bus, 1);
  ASSERT_EQ(g.size(), 1u);
  StopReport report = bus->Stop(StopMode::kDrain);
  std::set<CommandId> left(report.left.begin(), report.left.end());
  EXPECT_TRUE(left.contains(leased_id));
  EXPECT_TRUE(left.contains(waiting_id));
  EXPECT_EQ(bus->Lease(Ask(), 0ms).error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(bus->Get(leased_id)->state, State::kPending);
}

TEST(BusRemote, StopWaitsForLeasedCommandsToFinish) {
  BusOptions options;
  options.lease_drain_wait = 5s;
  auto bus = RemoteBus(FastRetry(), options);
  auto id = *bus->Submit(Cmd(kType, "a"));
  auto g = LeaseN(*bus, 1);
  ASSERT_EQ(g.size(), 1u);
  std::thread worker([&] {
    std::this_thread::sleep_for(30ms);
    EXPECT_TRUE(bus->Finish({Done(g[0])})[0].ok());
  });
  StopReport report = bus->Stop(StopMode::kDrain);
  worker.join();
  EXPECT_TRUE(report.left.empty());
  EXPECT_EQ(bus->Get(id)->state, State::kSucceeded);
}

// Concurrency: 2 producers, 3 remote workers leasing and finishing in batches, some
// failures that retry. Every command finishes exactly once, each key in submit order.
TEST(BusRemoteConcurrency, ManyWorkersKeepPerKeyOrderAndLoseNothing) {
  auto bus = RemoteBus(FastRetry(5));
  const size_t per_producer = testing::Scaled(20'000);
  constexpr int kKeys = 64;
  std::mutex mu;
  std::map<std::string, std::vector<uint64_t>> runs;  // key -> succeeded seq numbers
  std::atomic<size_t> succeeded{0};
  std::atomic<bool> done{false};

  auto worker = [&](int w) {
    std::string name = "w" + std::to_string(w);
    uint64_t n = 0;
    while (!done.load()) {
      auto got = bus->Lease(Ask(32, name), 20ms);
      ASSERT_TRUE(got.has_value());
      std::vector<RemoteOutcome> outs;
      for (auto& g : *got) {
        // One in 7 first attempts fails (retryably): order must hold across the retry.
        if (g.attempt == 1 && (++n % 7) == 0) {
          outs.push_back(Failed(g, "flaky"));
          continue;
        }
        {
          std::lock_guard lock(mu);
          runs[g.command->key].push_back(std::stoull(g.command->payload));
        }
        outs.push_back(Done(g));
      }
      auto st = bus->Finish(std::move(outs));
      for (size_t i = 0; i < st.size(); ++i) {
        ASSERT_TRUE(st[i].ok()) << st[i].ToString();
      }
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) workers.emplace_back(worker, w);

  auto producer = [&](int p) {
    for (size_t i = 0; i < per_producer; ++i) {
      const int key = static_cast<int>(i % kKeys) * 2 + p;  // each key has one producer
      const uint64_t seq = i;
      auto id = bus->Submit(Cmd(kType, "k" + std::to_string(key), std::to_string(seq)));
      ASSERT_TRUE(id.has_value());
    }
  };
  std::thread p0(producer, 0), p1(producer, 1);
  p0.join();
  p1.join();
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    size_t total = 0;
    for (auto& [k, v] : runs) total += v.size();
    succeeded.store(total);
    return total >= 2 * per_producer;
  })) << succeeded.load();
  done.store(true);
  for (auto& t : workers) t.join();

  std::lock_guard lock(mu);
  size_t total = 0;
  for (auto& [key, seqs] : runs) {
    total += seqs.size();
    for (size_t i = 1; i < seqs.size(); ++i) {
      ASSERT_LT(seqs[i - 1], seqs[i]) << "key " << key << " ran out of order";
    }
  }
  EXPECT_EQ(total, 2 * per_producer);  // none lost, none run twice
  EXPECT_EQ(bus->QueueDepth(), 0u);
}

}  // namespace
}  // namespace cmdq

namespace cmdq {
namespace {

// Metrics read the type and the run time of each outcome from on_finished.
TEST(BusCompletion, TellsTheTypeAndTheRunTime) {
  std::mutex mu;
  std::vector<std::pair<std::string, int64_t>> seen;
  BusOptions options;
  options.workers = 1;
  options.on_finished = [&](const Completion& c) {
    std::lock_guard lock(mu);
    seen.emplace_back(std::string(c.type), c.run_ns);
  };
  auto bus = testing::MakeBus(std::move(options));
  ASSERT_TRUE(
      bus->Register("slow", Handler{.execute = [](const HandlerContext&) -> Result<std::string> {
                      std::this_thread::sleep_for(5ms);
                      return std::string();
                    }})
          .ok());
  ASSERT_TRUE(bus->Start().ok());
  ASSERT_TRUE(bus->Execute(testing::Cmd("slow", "k")).has_value());
  ASSERT_TRUE(testing::Eventually([&] {
    std::lock_guard lock(mu);
    return !seen.empty();
  }));
  std::lock_guard lock(mu);
  EXPECT_EQ(seen[0].first, "slow");
  EXPECT_GE(seen[0].second, 4'000'000);
}

}  // namespace
}  // namespace cmdq
