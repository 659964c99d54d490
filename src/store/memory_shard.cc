#include "store/memory_shard.h"

#include <algorithm>
#include <functional>
#include <string_view>

namespace cmdq::store {
namespace {

constexpr size_t kKeyLogMax = 1024;

}  // namespace

Record Entry::ToRecord() const {
  return Record{
      .command = *command,
      .state = state,
      .attempt = attempt,
      .lease_worker = state == State::kRunning ? std::string(audit.last_worker()) : std::string(),
      .lease_expires_us = lease_expires_us,
      .result = result,
      .error = error,
      .next_attempt_us = next_attempt_us,
      .updated_at_us = audit.last_time_us()};
}

bool ListFilter::Matches(const Entry& entry) const {
  if (state && entry.state != *state) return false;
  if (key && entry.command->key != *key) return false;
  if (type && entry.command->type != *type) return false;
  return true;
}

MemoryShard::MemoryShard(size_t terminal_budget, size_t initial_capacity)
    : records_(initial_capacity), terminal_budget_(terminal_budget) {}

uint64_t MemoryShard::KeyHash(const std::string& key) { return std::hash<std::string_view>{}(key); }

Entry& MemoryShard::Insert(const NewRecord& record) {
  const uint64_t id = record.command->id.value();
  Entry& e = *entries_.Allocate();
  e.id = id;
  e.state = record.state;
  e.attempt = 0;
  e.terminal_stamp = 0;
  e.command = record.command;
  e.lease_expires_us = 0;
  e.next_attempt_us = 0;
  e.audit.Append(record.time_us, State::kNone, record.state, 0, {}, {});
  records_.Insert(id, &e);
  if (key_index_built_) {
    key_log_.emplace_back(KeyHash(e.command->key), id);
    if (key_log_.size() >= kKeyLogMax) FoldKeyLog();
  }
  return e;
}

void MemoryShard::BuildKeyIndex() {
  key_log_.clear();
  key_log_.reserve(records_.size());
  records_.ForEach(
      [this](uint64_t id, const Entry* e) { key_log_.emplace_back(KeyHash(e->command->key), id); });
  // Sorted, each key's ids arrive in order and every IndexKey is an append.
  std::sort(key_log_.begin(), key_log_.end());
  key_index_built_ = true;
  FoldKeyLog();
  key_log_.shrink_to_fit();
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

void MemoryShard::Apply(Entry& e, const Transition& t) {
  const bool was_terminal = IsTerminal(e.state);
  e.state = t.to;
  e.attempt = t.attempt;
  e.lease_expires_us = t.to == State::kRunning ? t.lease_expires_us : 0;
  if (t.result) e.result = *t.result;
  if (t.error) e.error = *t.error;
  e.next_attempt_us = t.to == State::kFailed ? t.next_attempt_us : 0;
  e.audit.Append(t.time_us, t.from, t.to, t.attempt, t.worker, t.message);

  // succeeded -> undone stays terminal and keeps its place in the queue; dead -> pending
  // (re-drive) leaves its queue item behind as stale.
  const bool is_terminal = IsTerminal(t.to);
  if (!was_terminal && is_terminal) {
    ++terminal_count_;
    e.terminal_stamp = next_stamp_++;
    terminal_queue_.emplace_back(&e, e.terminal_stamp);
  } else if (was_terminal && !is_terminal) {
    --terminal_count_;
    e.terminal_stamp = 0;
    if (terminal_queue_.size() > 2 * terminal_count_ + 64) CompactTerminalQueue();
  }
}

void MemoryShard::EnforceRetention() {
  if (terminal_budget_ == 0) return;
  // The records forgotten here became terminal long ago and are cold: their entry, their
  // id's slot and their command (which the entry often owns last) each miss the cache.
  // Ask for the entries a few items ahead, and for the slot and command of the items
  // nearer, whose entries have arrived by then, so that the misses overlap. At the
  // budget every write forgets about as many records as it finished, so the items ahead
  // are the next writes' to forget: asked for now, they arrive while the caller works.
  constexpr size_t kEntriesAhead = 8;
  constexpr size_t kFieldsAhead = 4;
  while (terminal_count_ > terminal_budget_ && !terminal_queue_.empty()) {
    if (terminal_queue_.size() > kEntriesAhead) {
      __builtin_prefetch(terminal_queue_[kEntriesAhead].first);
    }
    if (terminal_queue_.size() > kFieldsAhead) {
      const Entry* ahead = terminal_queue_[kFieldsAhead].first;
      records_.Prefetch(ahead->id);
      // The shared_ptr's counts sit just before a make_shared object; its strings follow.
      if (const Command* c = ahead->command.get(); c != nullptr) {
        __builtin_prefetch(reinterpret_cast<const char*>(c) - 16);
        __builtin_prefetch(reinterpret_cast<const char*>(c) + 48);
      }
    }
    auto [e, stamp] = terminal_queue_.front();
    terminal_queue_.pop_front();
    if (e->terminal_stamp != stamp) continue;  // stale
    Forget(*e);
    --terminal_count_;
  }
}

void MemoryShard::Forget(Entry& e) {
  records_.Erase(e.id);
  // Give back what the record holds now (the command may be its payload's last owner);
  // the fields Insert sets are left for it.
  e.id = 0;
  e.terminal_stamp = 0;
  e.command.reset();
  e.result.clear();
  e.result.shrink_to_fit();
  e.error.clear();
  e.error.shrink_to_fit();
  e.audit.Clear();
  entries_.Release(&e);
  if (!key_index_built_) return;
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
  std::erase_if(terminal_queue_, [](const std::pair<Entry*, uint64_t>& item) {
    return item.first->terminal_stamp != item.second;
  });
}

void MemoryShard::Collect(const ListFilter& filter, uint64_t before, TopIds& top) {
  if (filter.key) {
    if (!key_index_built_) BuildKeyIndex();
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
  records_.ForEach([&](uint64_t id, const Entry* e) {
    if (id < before && filter.Matches(*e)) top.Offer(id);
  });
}

void MemoryShard::CollectUnfinished(std::vector<Record>& out) const {
  records_.ForEach([&](uint64_t, const Entry* e) {
    if (!IsTerminal(e->state)) out.push_back(e->ToRecord());
  });
}

}  // namespace cmdq::store
