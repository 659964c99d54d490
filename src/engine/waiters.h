// Waiters: threads (Bus::Wait) and callbacks (Bus::Watch) waiting for commands to reach a
// terminal state. Costs one
// atomic load per completion while nobody waits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "cmdq/command_id.h"

namespace cmdq::engine {

class Waiters {
 public:
  struct Entry {
    bool done = false;
    uint64_t number = 0;             // callbacks: the ticket Unwatch names
    std::function<void()> callback;  // set: called once instead of waking a thread
  };
  using Ticket = std::shared_ptr<Entry>;

  // Register before looking at the state, so that a completion in between is not missed.
  Ticket Add(CommandId id);
  void Remove(CommandId id, const Ticket& ticket);
  // True if notified before `deadline`. Removes the ticket either way.
  bool Wait(CommandId id, const Ticket& ticket, std::chrono::steady_clock::time_point deadline);
  void Notify(CommandId id);
  // Calls `done` once, on the notifying thread, at the next Notify(id). Returns a ticket.
  uint64_t AddCallback(CommandId id, std::function<void()> done);
  void RemoveCallback(CommandId id, uint64_t number);

 private:
  void RemoveLocked(CommandId id, const Ticket& ticket);

  std::atomic<int> count_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_multimap<uint64_t, Ticket> waiting_;
  uint64_t next_number_ = 1;
};

}  // namespace cmdq::engine
