#include "store/memory_shard.h"

#include <algorithm>
#include <functional>
#include <string_view>

namespace cmdq::store {
namespace {

constexpr size_t kKeyLogMax = 1024;

}  // namespace

Record Entry::ToRecord() const {
  return Record{.command = *command,
                .state = state,
                .attempt = attempt,
                .lease_worker = lease_worker,
                .lease_expires_us = lease_expires_us,
                .result = result,
                .error = error,
                .next_attempt_us = next_attempt_us,
                .updated_at_us = updated_at_us};
}

bool ListFilter::Matches(const Entry& entry) const {
  if (state && entry.state != *state) return false;
  if (key && entry.command->key != *key) return false;
  if (type && entry.command->type != *type) return false;
  return true;
}

MemoryShard::MemoryShard(size_t terminal_budget, size_t initial_capacity)
    : terminal_budget_(terminal_budget) {
  records_.reserve(initial_capacity);
}

uint64_t MemoryShard::KeyHash(const std::string& key) { return std::hash<std::string_view>{}(key); }

const Entry* MemoryShard::Find(uint64_t id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

void MemoryShard::Insert(const NewRecord& record) {
  const uint64_t id = record.command->id.value();
  auto [it, inserted] = records_.try_emplace(id);
  Entry& e = it->second;
  e.command = record.command;
  e.state = record.state;
  e.updated_at_us = record.time_us;
  e.audit.Append({.time_us = record.time_us, .from = State::kNone, .to = record.state});
  key_log_.emplace_back(KeyHash(e.command->key), id);
  if (key_log_.size() >= kKeyLogMax) FoldKeyLog();
}

void MemoryShard::FoldKeyLog() {
  for (const auto& [hash, id] : key_log_) IndexKey(id, hash);
  key_log_.clear();
}

void MemoryShard::IndexKey(uint64_t id, uint64_t key_hash) {
  std::vector<uint64_t>& ids = by_key_[key_hash];
  // Ids arrive nearly in order (they are time-ordered; threads race by a few), so the
  // sorted insert is almost always an append.
  if (ids.empty() || ids.back() < id) {
    ids.push_back(id);
  } else {
    ids.insert(std::upper_bound(ids.begin(), ids.end(), id), id);
  }
}

void MemoryShard::Apply(const Transition& t) {
  Entry& e = records_.find(t.id.value())->second;
  const bool was_terminal = IsTerminal(e.state);
  e.state = t.to;
  e.attempt = t.attempt;
  if (t.to == State::kRunning) {
    e.lease_worker = t.worker;
    e.lease_expires_us = t.lease_expires_us;
  } else {
    e.lease_worker.clear();
    e.lease_expires_us = 0;
  }
  if (t.result) e.result = *t.result;
  if (t.error) e.error = *t.error;
  e.next_attempt_us = t.to == State::kFailed ? t.next_attempt_us : 0;
  e.updated_at_us = t.time_us;
  e.audit.Append({.time_us = t.time_us,
                  .from = t.from,
                  .to = t.to,
                  .attempt = t.attempt,
                  .worker = t.worker,
                  .message = t.message});

  // succeeded -> undone stays terminal and keeps its place in the queue; dead -> pending
  // (re-drive) leaves its queue item behind as stale.
  const bool is_terminal = IsTerminal(t.to);
  if (!was_terminal && is_terminal) {
    ++terminal_count_;
    e.terminal_stamp = next_stamp_++;
    terminal_queue_.emplace_back(t.id.value(), e.terminal_stamp);
  } else if (was_terminal && !is_terminal) {
    --terminal_count_;
    e.terminal_stamp = 0;
    if (terminal_queue_.size() > 2 * terminal_count_ + 64) CompactTerminalQueue();
  }
}

void MemoryShard::EnforceRetention() {
  if (terminal_budget_ == 0) return;
  while (terminal_count_ > terminal_budget_ && !terminal_queue_.empty()) {
    auto [id, stamp] = terminal_queue_.front();
    terminal_queue_.pop_front();
    auto it = records_.find(id);
    if (it == records_.end() || it->second.terminal_stamp != stamp) continue;  // stale
    Forget(it);
    --terminal_count_;
  }
}

void MemoryShard::Forget(std::unordered_map<uint64_t, Entry>::iterator it) {
  records_.erase(it);
  // The key index keeps the id until enough are stale to pay for one compaction pass.
  if (++key_stale_ > std::max<size_t>(4096, records_.size())) CompactKeyIndex();
}

void MemoryShard::CompactKeyIndex() {
  FoldKeyLog();
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    std::erase_if(it->second, [this](uint64_t id) { return !records_.contains(id); });
    it = it->second.empty() ? by_key_.erase(it) : std::next(it);
  }
  key_stale_ = 0;
}

void MemoryShard::CompactTerminalQueue() {
  std::erase_if(terminal_queue_, [this](const std::pair<uint64_t, uint64_t>& item) {
    auto it = records_.find(item.first);
    return it == records_.end() || it->second.terminal_stamp != item.second;
  });
}

void MemoryShard::Collect(const ListFilter& filter, uint64_t before, TopIds& top) {
  if (filter.key) {
    FoldKeyLog();
    auto index = by_key_.find(KeyHash(*filter.key));
    if (index == by_key_.end()) return;
    const std::vector<uint64_t>& ids = index->second;
    for (auto it = std::lower_bound(ids.begin(), ids.end(), before); it != ids.begin();) {
      --it;
      const Entry* e = Find(*it);
      if (e == nullptr || !filter.Matches(*e)) continue;
      if (!top.Offer(*it)) return;  // the rest are older still
    }
    return;
  }
  for (const auto& [id, e] : records_) {
    if (id < before && filter.Matches(e)) top.Offer(id);
  }
}

void MemoryShard::CollectUnfinished(std::vector<Record>& out) const {
  for (const auto& [id, e] : records_) {
    if (!IsTerminal(e.state)) out.push_back(e.ToRecord());
  }
}

}  // namespace cmdq::store
