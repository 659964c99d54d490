// A disk that fills up mid-run (issue 3, "Bad input"): submits fail with an error, nothing
// acknowledged is lost, and the node recovers by itself when space returns.
//
// The data directory is a small tmpfs mounted for the test (root only; skipped otherwise),
// filled by the bus itself; "space returns" is a remount with a larger size.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

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

constexpr char kSmall[] = "size=24m";
constexpr char kLarge[] = "size=512m";

// A tmpfs of its own at `path`, unmounted when the test ends.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& path) : path_(path) {
    mounted_ = ::geteuid() == 0 && ::mount("cmdq-test", path.c_str(), "tmpfs", 0, kSmall) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  bool Grow() { return ::mount("cmdq-test", path_.c_str(), "tmpfs", MS_REMOUNT, kLarge) == 0; }

 private:
  std::string path_;
  bool mounted_ = false;
};

std::unique_ptr<Bus> StartBus(const std::string& path) {
  return testing::StartDurableBus(path, {}, [](Bus& bus) {
    return bus.Register("t", {.execute = [](const HandlerContext&) -> Result<std::string> {
                          return std::string("ok");
                        }});
  });
}

std::vector<Command> Batch(int n, int round) {
  std::vector<Command> batch(n);
  for (int i = 0; i < n; ++i) {
    batch[i].type = "t";
    batch[i].key = "user-" + std::to_string((round * n + i) % 100);
    batch[i].payload.assign(1024, static_cast<char>('a' + (i % 26)));
  }
  return batch;
}

// Submits batches until one is refused; returns the ids acknowledged and that error.
Status FillUp(Bus& bus, std::vector<CommandId>& acked) {
  for (int round = 0; round < 100'000; ++round) {
    for (auto& r : bus.SubmitBatch(Batch(100, round))) {
      if (!r) return r.error();
      acked.push_back(*r);
    }
  }
  return Status::Ok();
}

TEST(DiskFull, SubmitsFailThenRecoverWhenSpaceReturnsAndNothingAckedIsLost) {
  TempDir dir("cmdq-diskfull");
  SmallDisk disk(dir.path());
  if (!disk.mounted()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  std::vector<CommandId> acked;
  {
    auto bus = StartBus(dir.path());
    ASSERT_NE(bus, nullptr);
    const Status full = FillUp(*bus, acked);
    ASSERT_FALSE(full.ok()) << "the 24 MB disk never filled";
    EXPECT_TRUE(full.code() == StatusCode::kResourceExhausted ||
                full.code() == StatusCode::kIoError)
        << full.ToString();
    EXPECT_GT(acked.size(), 1000u);
    // Still full: refused again, with an error, not a crash.
    EXPECT_FALSE(bus->Submit(Batch(1, 0)[0]).has_value());

    ASSERT_TRUE(disk.Grow());
    // The node recovers by itself: submits go through again. RocksDB's own recovery looks
    // at the free space every 5 s, so this takes up to a few of those.
    bool recovered = false;
    for (int i = 0; i < 3000 && !recovered; ++i) {
      auto r = bus->Submit(Batch(1, 1)[0]);
      if (r) {
        acked.push_back(*r);
        recovered = true;
      } else {
        std::this_thread::sleep_for(10ms);
      }
    }
    ASSERT_TRUE(recovered) << "submits still fail after space returned";
    auto report = bus->Stop(StopMode::kDrain);
    EXPECT_TRUE(report.left.empty());
  }
  // Everything acknowledged is on disk and finished, after a reopen.
  auto bus = StartBus(dir.path());
  ASSERT_NE(bus, nullptr);
  size_t missing = 0, unfinished = 0;
  for (CommandId id : acked) {
    auto rec = bus->Wait(id, 10s);
    if (!rec) {
      ++missing;
    } else if (rec->state != State::kSucceeded) {
      ++unfinished;
    }
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(unfinished, 0u);
}

}  // namespace
}  // namespace cmdq
