// A durable bus stopped (or "crashed") with work unfinished: after the store is opened
// again by a new bus, everything left runs, and a command that was running when its
// process died is re-queued with a "lease lost" audit event that counts its attempt.
// The kill -9 version of the same promise is tests/crash/crash_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cmdq/bus.h"
#include "common/temp_dir.h"
#include "durable/cut_store.h"
#include "durable/durable_bus.h"

namespace cmdq {
namespace {

using namespace std::chrono_literals;
using testing::CutStore;
using testing::TempDir;

constexpr int kCommands = 40;
constexpr int kKeys = 16;
constexpr char kLeaseLost[] = "lease lost";

const TypeOptions kFastRetry{
    .max_attempts = 5, .backoff_initial = 1ms, .backoff_max = 10ms, .timeout = 30'000ms};

// Counts handlers that entered and holds them until the bus stops now. A "warm" command
// only takes a few ms: it teaches the bus that the type is slow, so that `running` is
// stored before each run (fast types store it with the outcome, in one write).
struct Gate {
  std::atomic<int> entered{0};
};

Handler BlockUntilStopped(Gate& gate) {
  return {.execute = [&gate](const HandlerContext& ctx) -> Result<std::string> {
            if (ctx.command().payload == "warm") {
              std::this_thread::sleep_for(5ms);
              return std::string();
            }
            gate.entered.fetch_add(1);
            while (!ctx.stop_token().stop_requested()) std::this_thread::sleep_for(1ms);
            return Error(Status(StatusCode::kCancelled, "the bus stopped"));
          },
          .undo = {}};
}

Handler Succeeds() {
  return {.execute = [](const HandlerContext&) -> Result<std::string> { return std::string("ok"); },
          .undo = {}};
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& path) {
  return testing::OpenTestStore(path);
}

std::unique_ptr<Bus> StartBus(std::unique_ptr<Store> store, Handler handler) {
  return testing::StartDurableBus(std::move(store), {}, [&](Bus& bus) {
    return bus.Register("t", std::move(handler), kFastRetry);
  });
}

std::vector<CommandId> SubmitBlocking(Bus& bus) {
  std::vector<Command> batch(kCommands);
  for (int i = 0; i < kCommands; ++i) {
    batch[i].type = "t";
    batch[i].key = "user-" + std::to_string(i % kKeys);
    batch[i].payload = "block";
  }
  std::vector<CommandId> ids;
  for (auto& r : bus.SubmitBatch(std::move(batch))) {
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    if (r) ids.push_back(*r);
  }
  return ids;
}

// Both workers hold a blocked handler (or, on a slow machine, at least one after 10 s).
void AwaitBlocked(const Gate& gate) {
  for (int i = 0; i < 10'000 && gate.entered.load() < 2; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_GE(gate.entered.load(), 1);
}

bool HasLeaseLostEvent(const std::vector<AuditEvent>& events) {
  for (const AuditEvent& e : events) {
    if (e.from == State::kRunning && e.to == State::kPending &&
        e.message.find(kLeaseLost) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(DurableRestart, StopNowLeavesWorkThatRunsAfterReopen) {
  TempDir dir("cmdq-durable");
  const std::string path = dir.path() + "/data";
  Gate gate;
  std::vector<CommandId> ids;
  {
    auto store = OpenStore(path);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    auto bus = StartBus(std::move(*store), BlockUntilStopped(gate));
    ASSERT_NE(bus, nullptr);
    ids = SubmitBlocking(*bus);
    ASSERT_EQ(ids.size(), size_t{kCommands});
    AwaitBlocked(gate);
    const StopReport report = bus->Stop(StopMode::kNow);
    EXPECT_GE(report.left.size(), size_t{kCommands} - gate.entered.load());
  }
  auto store = OpenStore(path);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto bus = StartBus(std::move(*store), Succeeds());
  ASSERT_NE(bus, nullptr);
  int retried = 0;
  for (CommandId id : ids) {
    auto rec = bus->Wait(id, 10s);
    ASSERT_TRUE(rec.has_value()) << rec.error().ToString();
    EXPECT_EQ(rec->state, State::kSucceeded) << id.ToString();
    // The handlers that the stop interrupted stored a failed first attempt.
    if (rec->attempt == 2) ++retried;
  }
  EXPECT_EQ(retried, gate.entered.load());
}

TEST(DurableRestart, CommandRunningAtACrashIsRequeuedWithItsAttemptCounted) {
  TempDir dir("cmdq-durable");
  const std::string path = dir.path() + "/data";
  Gate gate;
  std::vector<CommandId> ids;
  {
    auto store = OpenStore(path);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    auto cut = std::make_unique<CutStore>(std::move(*store));
    CutStore& cut_store = *cut;
    auto bus = StartBus(std::move(cut), BlockUntilStopped(gate));
    ASSERT_NE(bus, nullptr);
    auto warm = bus->Submit(Command{.type = "t", .key = "warm", .payload = "warm"});
    ASSERT_TRUE(warm.has_value());
    ASSERT_EQ(bus->Wait(*warm, 10s)->state, State::kSucceeded);
    ids = SubmitBlocking(*bus);
    ASSERT_EQ(ids.size(), size_t{kCommands});
    AwaitBlocked(gate);
    // The process "dies" here: the interrupted runs' outcomes never reach the disk.
    cut_store.Cut();
    bus->Stop(StopMode::kNow);
  }

  auto store = OpenStore(path);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto unfinished = (*store)->Unfinished();
  ASSERT_TRUE(unfinished.has_value());
  ASSERT_EQ(unfinished->size(), size_t{kCommands});
  std::vector<CommandId> were_running;
  for (const Record& r : *unfinished) {
    if (r.state == State::kRunning) were_running.push_back(r.command.id);
  }
  ASSERT_GE(were_running.size(), 1u);
  EXPECT_LE(were_running.size(), size_t(gate.entered.load()));

  auto bus = StartBus(std::move(*store), Succeeds());
  ASSERT_NE(bus, nullptr);
  for (CommandId id : ids) {
    auto rec = bus->Wait(id, 10s);
    ASSERT_TRUE(rec.has_value()) << rec.error().ToString();
    EXPECT_EQ(rec->state, State::kSucceeded) << id.ToString();
  }
  for (CommandId id : were_running) {
    EXPECT_EQ(bus->Get(id)->attempt, 2u) << "the lost run counts as attempt 1";
    auto audit = bus->Audit(id);
    ASSERT_TRUE(audit.has_value());
    EXPECT_TRUE(HasLeaseLostEvent(*audit)) << id.ToString();
  }
  for (CommandId id : ids) {
    if (std::find(were_running.begin(), were_running.end(), id) != were_running.end()) continue;
    EXPECT_EQ(bus->Get(id)->attempt, 1u) << id.ToString();
    EXPECT_FALSE(HasLeaseLostEvent(*bus->Audit(id))) << id.ToString();
  }
}

}  // namespace
}  // namespace cmdq
