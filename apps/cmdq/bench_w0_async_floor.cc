#include "bench_w0_async_floor.h"

#include <concurrentqueue/concurrentqueue.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <iterator>
#include <stop_token>
#include <thread>

#include "bench_workloads.h"
#include "builtin_types.h"
#include "cmdq/clock.h"
#include "cmdq/command.h"
#include "cmdq/handler.h"

namespace cmdq::app {
namespace {

constexpr size_t kHandOver = 64;  // commands per enqueue and per dequeue

// Runs and keeps what `queue` brings until `commands` have run; counts them into `ran`.
void Consume(moodycamel::ConcurrentQueue<Command>& queue, uint64_t commands, size_t kept,
             std::atomic<uint64_t>& ran) {
  const Handler handler = NoopHandler();
  std::vector<Command> ring(std::max<size_t>(kept, 1));
  std::array<Command, kHandOver> taken;
  uint64_t done = 0;
  while (done < commands) {
    const size_t n = queue.try_dequeue_bulk(taken.begin(), taken.size());
    if (n == 0) {
      std::this_thread::yield();  // two cores: the producer may need this one
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      const HandlerContext context(taken[i], 1, 0, std::stop_token(), SystemClock());
      (void)handler.execute(context);
      ring[(done + i) % ring.size()] = std::move(taken[i]);  // frees the oldest
    }
    done += n;
    ran.store(done, std::memory_order_release);
  }
}

}  // namespace

double W0AsyncKeepingFloor(const PayloadPool& payloads, const std::vector<std::string>& keys,
                           uint64_t commands, size_t kept, size_t ahead) {
  // The producer hands over whole batches: it may run one batch ahead at least.
  ahead = std::max(ahead, kHandOver);
  moodycamel::ConcurrentQueue<Command> queue;
  std::atomic<uint64_t> ran{0};
  const auto start = std::chrono::steady_clock::now();
  std::thread consumer([&] { Consume(queue, commands, kept, ran); });
  FastRandom random(1000);  // W0.async's first producer's seed
  std::vector<Command> batch;
  batch.reserve(kHandOver);
  for (uint64_t i = 0; i < commands; ++i) {
    batch.push_back(W0AsyncCommand(keys[random.Below(keys.size())], payloads.At(i)));
    if (batch.size() < kHandOver && i + 1 < commands) continue;
    while (i + 1 - ran.load(std::memory_order_acquire) > ahead) std::this_thread::yield();
    queue.enqueue_bulk(std::make_move_iterator(batch.begin()), batch.size());
    batch.clear();
  }
  consumer.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return commands / seconds;
}

}  // namespace cmdq::app
