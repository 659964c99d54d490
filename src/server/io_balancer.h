// IoBalancer: which io thread serves each connection.
//
// A request that carries one command costs ~35 µs of server CPU, two thirds of it the
// kernel's wake-ups (docs/perf.md, ninth session), and every io thread that sleeps
// between requests must be woken for the next. So at light load every connection is
// packed onto one thread: one thread wakes, and often finds the next request already
// there. When that thread gets busy, half its connections move to the least busy
// thread (the next ones to finish a request: the busy ones); when all threads together
// are well under one busy thread, they move back. Decisions wait for every thread's
// next report, so that moves made on stale loads do not overshoot.
//
// Each io thread reports its own CPU share every period (Report); a connection asks at
// each request boundary whether it should move (TakeMove: one relaxed atomic load when
// none is wanted). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace cmdq::server {

class IoBalancer {
 public:
  // A thread busier than this (CPU share of one core) hands connections to another.
  // High: one thread at 10,000 one-command requests a second is ~70% busy, and still
  // answers faster than two (fewer wake-ups; docs/perf.md, ninth session).
  static constexpr double kBusy = 0.9;
  // ... to a thread at most this busy.
  static constexpr double kRoomy = 0.5;
  // All threads together below this: pack every connection onto thread 0 again. Under
  // kBusy, so that a packed thread is not busy enough to spread again at once; above
  // what two threads take for the load one thread carries at 70% (wake-ups cost more).
  static constexpr double kQuiet = 0.75;
  // Decisions in a row that must find a thread busy before it spreads: one busy period
  // (50 ms) is often a burst.
  static constexpr int kBusyDecisions = 2;

  explicit IoBalancer(uint32_t threads);

  // The thread for a new connection (counted there until Closed or moved).
  uint32_t Place();
  // A connection of thread `t` closed.
  void Closed(uint32_t t);
  // Thread `t` at a request boundary of one of its connections: the thread it should
  // move to, if one is wanted (it then counts there).
  std::optional<uint32_t> TakeMove(uint32_t t);
  // Thread `t`'s CPU share (0 to 1) over the last period; decides the moves wanted.
  void Report(uint32_t t, double load);

  uint32_t connections(uint32_t t) const;
  // Moves taken so far.
  uint64_t moves() const { return moves_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    double load = 0;
    bool fresh = false;  // reported since the last decision
    uint32_t connections = 0;
    uint32_t move_to = 0;
    std::atomic<uint32_t> moves_wanted{0};  // read without the lock on every request
  };
  void RebalanceLocked();

  std::atomic<uint64_t> moves_{0};
  int busy_decisions_ = 0;  // in a row, under mu_
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace cmdq::server
