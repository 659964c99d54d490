#include "server/io_balancer.h"

#include <algorithm>

namespace cmdq::server {

IoBalancer::IoBalancer(uint32_t threads) {
  for (uint32_t i = 0; i < std::max(1u, threads); ++i) slots_.push_back(std::make_unique<Slot>());
}

uint32_t IoBalancer::Place() {
  std::lock_guard lock(mu_);
  uint32_t to = 0;
  if (slots_[0]->load > kBusy) {
    for (uint32_t i = 1; i < slots_.size(); ++i) {
      if (slots_[i]->load < slots_[to]->load) to = i;
    }
  }
  ++slots_[to]->connections;
  return to;
}

void IoBalancer::Closed(uint32_t t) {
  std::lock_guard lock(mu_);
  Slot& slot = *slots_[t];
  if (slot.connections > 0) --slot.connections;
  // Fewer connections than moves wanted: the rest could never be taken.
  if (slot.moves_wanted.load(std::memory_order_relaxed) > slot.connections) {
    slot.moves_wanted.store(slot.connections, std::memory_order_relaxed);
  }
}

std::optional<uint32_t> IoBalancer::TakeMove(uint32_t t) {
  Slot& from = *slots_[t];
  if (from.moves_wanted.load(std::memory_order_relaxed) == 0) return std::nullopt;
  std::lock_guard lock(mu_);
  const uint32_t wanted = from.moves_wanted.load(std::memory_order_relaxed);
  if (wanted == 0 || from.connections == 0) return std::nullopt;
  from.moves_wanted.store(wanted - 1, std::memory_order_relaxed);
  --from.connections;
  ++slots_[from.move_to]->connections;
  moves_.fetch_add(1, std::memory_order_relaxed);
  return from.move_to;
}

void IoBalancer::Report(uint32_t t, double load) {
  std::lock_guard lock(mu_);
  slots_[t]->load = load;
  slots_[t]->fresh = true;
  RebalanceLocked();
}

uint32_t IoBalancer::connections(uint32_t t) const {
  std::lock_guard lock(mu_);
  return slots_[t]->connections;
}

void IoBalancer::RebalanceLocked() {
  const size_t n = slots_.size();
  if (n < 2) return;
  // Only on loads every thread measured since the last decision: the moves it asked for
  // have had a period to happen and show.
  for (auto& slot : slots_) {
    if (!slot->fresh) return;
  }
  for (auto& slot : slots_) {
    slot->fresh = false;
    slot->moves_wanted.store(0, std::memory_order_relaxed);
  }
  double total = 0;
  for (auto& slot : slots_) total += slot->load;
  if (total < kQuiet) {
    busy_decisions_ = 0;
    // Nearly idle: back onto thread 0, where the next request finds a thread awake.
    for (size_t i = 1; i < n; ++i) {
      slots_[i]->move_to = 0;
      slots_[i]->moves_wanted.store(slots_[i]->connections, std::memory_order_relaxed);
    }
    return;
  }
  // The busiest thread hands half its connections to the idlest. Counts alone would
  // mislead: idle connections never reach a request boundary, so only busy ones move.
  size_t busiest = 0;
  size_t idlest = 0;
  for (size_t i = 1; i < n; ++i) {
    if (slots_[i]->load > slots_[busiest]->load) busiest = i;
    if (slots_[i]->load < slots_[idlest]->load) idlest = i;
  }
  Slot& from = *slots_[busiest];
  const Slot& to = *slots_[idlest];
  if (from.load <= kBusy || to.load >= kRoomy || from.connections < 2) {
    busy_decisions_ = 0;
    return;
  }
  if (++busy_decisions_ < kBusyDecisions) return;
  busy_decisions_ = 0;
  from.move_to = static_cast<uint32_t>(idlest);
  from.moves_wanted.store(from.connections / 2, std::memory_order_relaxed);
}

}  // namespace cmdq::server
