// AuditTrail: the audit events of one record inside the memory store.
//
// Almost every command has exactly three events (submit, running, succeeded), so the first
// three live inline in the record's map node: no second allocation per command on the hot
// path. Longer lives (retries, undo) spill into a vector. An event's id and sequence are not
// stored: they are the record's id and the event's position.
// Not thread-safe: the owning shard's mutex guards it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cmdq/record.h"
#include "cmdq/state.h"

namespace cmdq::store {

struct StoredEvent {
  int64_t time_us = 0;
  State from = State::kNone;
  State to = State::kNone;
  uint32_t attempt = 0;
  std::string worker;
  std::string message;
};

class AuditTrail {
 public:
  static constexpr size_t kInline = 3;

  void Append(StoredEvent event) {
    if (size_ < kInline) {
      inline_[size_] = std::move(event);
    } else {
      overflow_.push_back(std::move(event));
    }
    ++size_;
  }

  size_t size() const { return size_; }

  const StoredEvent& operator[](size_t i) const {
    return i < kInline ? inline_[i] : overflow_[i - kInline];
  }

  // The public form, with the id and sequence derived from the position.
  std::vector<AuditEvent> ToEvents(CommandId id) const {
    std::vector<AuditEvent> events;
    events.reserve(size_);
    for (size_t i = 0; i < size_; ++i) {
      const StoredEvent& e = (*this)[i];
      events.push_back({.id = id,
                        .sequence = static_cast<uint32_t>(i),
                        .time_us = e.time_us,
                        .from = e.from,
                        .to = e.to,
                        .attempt = e.attempt,
                        .worker = e.worker,
                        .message = e.message});
    }
    return events;
  }

 private:
  std::array<StoredEvent, kInline> inline_;
  std::vector<StoredEvent> overflow_;
  size_t size_ = 0;
};

}  // namespace cmdq::store
