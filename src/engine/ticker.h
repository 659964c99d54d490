// Ticker: the engine's sense of time. A thread that, about every millisecond (sooner when a
// manual clock advances), schedules partitions whose timers are due (not_before, retry
// backoff), stops attempts that ran past their deadline, and expires remote leases.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cmdq/clock.h"
#include "engine/partition.h"
#include "engine/run_queue.h"
#include "engine/worker_slot.h"

namespace cmdq::engine {

class Ticker {
 public:
  Ticker(const Clock& clock, std::vector<std::unique_ptr<Partition>>& partitions,
         std::vector<std::unique_ptr<WorkerSlot>>& slots, RunQueue& run_queue,
         std::function<void(int64_t now_us)> on_tick = {})
      : clock_(clock),
        partitions_(partitions),
        slots_(slots),
        run_queue_(run_queue),
        on_tick_(std::move(on_tick)) {}
  ~Ticker() { Stop(); }

  void Start();
  void Stop();  // waits for the thread
  void Wake();  // look now (the clock moved)

 private:
  void Loop();
  void Tick();

  const Clock& clock_;
  std::vector<std::unique_ptr<Partition>>& partitions_;
  std::vector<std::unique_ptr<WorkerSlot>>& slots_;
  RunQueue& run_queue_;
  std::function<void(int64_t now_us)> on_tick_;  // e.g. expire leases
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace cmdq::engine
