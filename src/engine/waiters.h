// Waiters: threads waiting for commands to reach a terminal state (Bus::Wait). Costs one
// atomic load per completion while nobody waits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "cmdq/command_id.h"

namespace cmdq::engine {

class Waiters {
 public:
  struct Entry {
    bool done = false;
  };
  using Ticket = std::shared_ptr<Entry>;

  // Register before looking at the state, so that a completion in between is not missed.
  Ticket Add(CommandId id);
  void Remove(CommandId id, const Ticket& ticket);
  // True if notified before `deadline`. Removes the ticket either way.
  bool Wait(CommandId id, const Ticket& ticket, std::chrono::steady_clock::time_point deadline);
  void Notify(CommandId id);

 private:
  void RemoveLocked(CommandId id, const Ticket& ticket);

  std::atomic<int> count_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_multimap<uint64_t, Ticket> waiting_;
};

}  // namespace cmdq::engine
