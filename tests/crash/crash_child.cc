// cmdq_crash_child: a durable bus under load, made to be killed with SIGKILL by
// crash_test (tests/crash/crash_test.cc).
//
// At start it opens the store at --data-dir; Bus::Start() recovers whatever a killed run
// left there and runs it. It then prints "ready" and, unless --drain:
//   - producer threads submit batches of 1..64 commands (1 KB random payloads, keys over
//     100 users) with SubmitBatch and print each acknowledged id on stdout, one line per
//     id and one write(2) per batch. A line the parent has read was acknowledged, even if
//     the child is killed right after printing it.
//   - the handler appends the command's id to --log with one O_APPEND write(2) per
//     execution, so a kill loses no execution that already happened.
// It runs until killed (or --max-seconds). With --drain it submits nothing, waits until no
// command in the store is unfinished, stops the bus and exits 0.
//
// Exit codes: 0 done; 1 a failure (message on stderr); 2 bad usage.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cmdq/bus.h"
#include "cmdq/rocksdb_store.h"

namespace {

using namespace std::chrono_literals;
using cmdq::Bus;
using cmdq::Status;

constexpr char kType[] = "crash.log";
constexpr size_t kPayloadBytes = 1024;
constexpr int kUsers = 100;
constexpr int kMaxBatch = 64;

struct Flags {
  std::string data_dir;
  std::string log_path;
  bool drain = false;
  int producers = 3;
  // Commands per second offered by all producers together; 0 = as fast as the bus takes
  // them. About half of durable W1.sat saturation here (docs/perf.md), as WORKLOADS.md W4
  // asks; it also keeps the store, and the drain at the end, small.
  int rate = 15'000;
  int max_seconds = 60;      // a child nobody kills ends by itself
  int write_buffer_mb = 16;  // small memtables: flushes happen (and get killed) in the test
};

void Usage() {
  std::fprintf(stderr,
               "usage: cmdq_crash_child --data-dir DIR --log FILE [--drain] [--producers N]\n"
               "                        [--rate PER_S] [--max-seconds S] [--write-buffer-mb MB]\n");
}

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--drain") {
      f.drain = true;
    } else if (arg == "--data-dir" && has_value) {
      f.data_dir = argv[++i];
    } else if (arg == "--log" && has_value) {
      f.log_path = argv[++i];
    } else if (arg == "--producers" && has_value) {
      f.producers = std::atoi(argv[++i]);
    } else if (arg == "--rate" && has_value) {
      f.rate = std::atoi(argv[++i]);
    } else if (arg == "--max-seconds" && has_value) {
      f.max_seconds = std::atoi(argv[++i]);
    } else if (arg == "--write-buffer-mb" && has_value) {
      f.write_buffer_mb = std::atoi(argv[++i]);
    } else {
      return std::nullopt;
    }
  }
  if (f.data_dir.empty() || f.log_path.empty() || f.producers < 1 || f.rate < 0 ||
      f.write_buffer_mb < 1) {
    return std::nullopt;
  }
  return f;
}

// SplitMix64: payload bytes, batch sizes and keys.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

// Writes all of `text` to `fd`, retrying short writes; false on an error.
bool WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

cmdq::Handler LoggingHandler(int log_fd) {
  return {.execute = [log_fd](const cmdq::HandlerContext& ctx) -> cmdq::Result<std::string> {
            // One write per execution: O_APPEND makes it land whole at the end, and once
            // write(2) returns the line is in the page cache, which a SIGKILL keeps.
            const std::string line = ctx.command().id.ToString() + '\n';
            if (::write(log_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
              return cmdq::Error(Status(cmdq::StatusCode::kIoError,
                                        std::string("execution log: ") + std::strerror(errno)));
            }
            return std::string();
          },
          .undo = {}};
}

// Submits batches at this producer's share of the rate until the process ends.
void Produce(Bus& bus, const Flags& flags, int index, std::atomic<bool>& failed) {
  Random random(std::chrono::steady_clock::now().time_since_epoch().count() * (index + 1));
  std::vector<std::string> payloads(64, std::string(kPayloadBytes, '\0'));
  for (std::string& p : payloads) {
    for (char& c : p) c = static_cast<char>(random.Next());
  }
  const double per_second = flags.rate / static_cast<double>(flags.producers);
  const auto start = std::chrono::steady_clock::now();
  uint64_t sent = 0;
  std::string out;
  while (!failed.load()) {
    std::vector<cmdq::Command> batch(1 + random.Below(kMaxBatch));
    for (cmdq::Command& c : batch) {
      c.type = kType;
      c.key = "user-" + std::to_string(random.Below(kUsers));
      c.payload = payloads[random.Below(payloads.size())];
    }
    sent += batch.size();
    out.clear();
    for (auto& r : bus.SubmitBatch(std::move(batch))) {
      if (!r) {
        std::fprintf(stderr, "cmdq_crash_child: submit: %s\n", r.error().ToString().c_str());
        failed.store(true);
        break;
      }
      out += r->ToString();
      out += '\n';
    }
    // At most 64 lines of 17 bytes: under PIPE_BUF, so one atomic write per batch.
    if (!WriteAll(STDOUT_FILENO, out)) failed.store(true);
    if (per_second > 0) {
      std::this_thread::sleep_until(start + std::chrono::duration<double>(sent / per_second));
    }
  }
}

// True while any stored command is not terminal. List by a non-terminal state is served
// from the store's in-memory map of live records, so polling it is cheap.
cmdq::Result<bool> AnyUnfinished(const Bus& bus) {
  for (cmdq::State s : {cmdq::State::kPending, cmdq::State::kScheduled, cmdq::State::kRunning,
                        cmdq::State::kFailed}) {
    auto page = bus.List(cmdq::ListQuery{.state = s, .limit = 1});
    if (!page) return cmdq::Error(page.error());
    if (!page->records.empty() || page->next_cursor.valid()) return true;
  }
  return false;
}

int Drain(Bus& bus, const Flags& flags) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(flags.max_seconds);
  for (;;) {
    auto busy = AnyUnfinished(bus);
    if (!busy) {
      std::fprintf(stderr, "cmdq_crash_child: list: %s\n", busy.error().ToString().c_str());
      return 1;
    }
    if (!*busy) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "cmdq_crash_child: still unfinished after %d s\n", flags.max_seconds);
      return 1;
    }
    std::this_thread::sleep_for(20ms);
  }
  bus.Stop(cmdq::StopMode::kDrain);
  return 0;
}

int Run(Bus& bus, const Flags& flags) {
  std::atomic<bool> failed{false};
  std::vector<std::thread> producers;
  for (int p = 0; p < flags.producers; ++p) {
    producers.emplace_back([&, p] { Produce(bus, flags, p, failed); });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(flags.max_seconds);
  while (!failed.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  failed.store(true);  // ends the producers
  for (std::thread& t : producers) t.join();
  return 1;  // only a kill is the expected end of a normal run
}

cmdq::Result<std::unique_ptr<Bus>> StartBus(const Flags& flags, int log_fd) {
  // Checkpoints every 1,000 inserts (not 65,536): kills then land before, during and
  // after many of them, and every restart reads back what the last one left.
  auto store = cmdq::OpenRocksDbStore({.path = flags.data_dir,
                                       .write_buffer_bytes = size_t(flags.write_buffer_mb) << 20,
                                       .checkpoint_every = 1000});
  if (!store) return cmdq::Error(store.error());
  cmdq::BusDeps deps;
  deps.store = std::move(*store);
  auto bus =
      Bus::Create(cmdq::BusOptions{.mode = cmdq::Mode::kDurable, .workers = 2}, std::move(deps));
  if (!bus) return bus;
  if (Status s = (*bus)->Register(kType, LoggingHandler(log_fd)); !s.ok()) return cmdq::Error(s);
  if (Status s = (*bus)->Start(); !s.ok()) return cmdq::Error(s);
  return bus;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Flags> flags = ParseFlags(argc, argv);
  if (!flags) {
    Usage();
    return 2;
  }
  const int log_fd =
      ::open(flags->log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    std::fprintf(stderr, "cmdq_crash_child: %s: %s\n", flags->log_path.c_str(),
                 std::strerror(errno));
    return 1;
  }
  auto bus = StartBus(*flags, log_fd);
  if (!bus) {
    std::fprintf(stderr, "cmdq_crash_child: %s\n", bus.error().ToString().c_str());
    return 1;
  }
  if (!WriteAll(STDOUT_FILENO, "ready\n")) return 1;
  const int code = flags->drain ? Drain(**bus, *flags) : Run(**bus, *flags);
  bus->reset();  // stops the bus and closes the store before the log
  ::close(log_fd);
  return code;
}
