#include "engine/waiters.h"

#include <vector>

namespace cmdq::engine {

Waiters::Ticket Waiters::Add(CommandId id) {
  auto ticket = std::make_shared<Entry>();
  std::lock_guard lock(mu_);
  waiting_.emplace(id.value(), ticket);
  count_.fetch_add(1);
  return ticket;
}

void Waiters::Remove(CommandId id, const Ticket& ticket) {
  std::lock_guard lock(mu_);
  RemoveLocked(id, ticket);
}

void Waiters::RemoveLocked(CommandId id, const Ticket& ticket) {
  auto [begin, end] = waiting_.equal_range(id.value());
  for (auto it = begin; it != end; ++it) {
    if (it->second == ticket) {
      waiting_.erase(it);
      count_.fetch_sub(1);
      return;
    }
  }
}

bool Waiters::Wait(CommandId id, const Ticket& ticket,
                   std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  const bool done = cv_.wait_until(lock, deadline, [&] { return ticket->done; });
  RemoveLocked(id, ticket);
  return done;
}

void Waiters::Notify(CommandId id) {
  if (count_.load() == 0) return;
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mu_);
    auto [begin, end] = waiting_.equal_range(id.value());
    if (begin == end) return;
    bool threads = false;
    for (auto it = begin; it != end;) {
      if (it->second->callback) {
        callbacks.push_back(std::move(it->second->callback));
        it = waiting_.erase(it);
        count_.fetch_sub(1);
      } else {
        it->second->done = true;
        threads = true;
        ++it;
      }
    }
    if (threads) cv_.notify_all();
  }
  for (auto& fn : callbacks) fn();
}

uint64_t Waiters::AddCallback(CommandId id, std::function<void()> done) {
  auto entry = std::make_shared<Entry>();
  entry->callback = std::move(done);
  std::lock_guard lock(mu_);
  entry->number = next_number_++;
  waiting_.emplace(id.value(), entry);
  count_.fetch_add(1);
  return entry->number;
}

void Waiters::RemoveCallback(CommandId id, uint64_t number) {
  std::lock_guard lock(mu_);
  auto [begin, end] = waiting_.equal_range(id.value());
  for (auto it = begin; it != end; ++it) {
    if (it->second->number == number) {
      waiting_.erase(it);
      count_.fetch_sub(1);
      return;
    }
  }
}

}  // namespace cmdq::engine
