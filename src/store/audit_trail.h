// AuditTrail: the audit events of one record inside the memory store.
//
// Almost every command has exactly three events (submit, running, succeeded), named by one
// worker, with no message. So the first three events live inline in the record, 16 bytes
// each, and the trail keeps one worker name for all of them: no allocation per command on
// the hot path and few cache lines per record. What is rarer goes to a spill allocated on
// first need: events past the third, a second worker name, messages. An event's id and
// sequence are not stored: they are the record's id and the event's position.
// Not thread-safe: the owning shard's mutex guards it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cmdq/record.h"
#include "cmdq/state.h"

namespace cmdq::store {

class AuditTrail {
 public:
  static constexpr size_t kInline = 3;

  // `worker` and `message` are copied only when not empty.
  void Append(int64_t time_us, State from, State to, uint32_t attempt, const std::string& worker,
              const std::string& message) {
    Event e{.time_us = time_us, .attempt = attempt, .from = from, .to = to};
    if (!worker.empty()) {
      if (worker_.empty()) worker_ = worker;
      if (worker == worker_) {
        e.worker = WorkerRef::kShared;
      } else {
        e.worker = WorkerRef::kOwn;
        SetSpilled(MutableSpill().workers, worker);
      }
    }
    if (!message.empty()) {
      e.has_message = true;
      SetSpilled(MutableSpill().messages, message);
    }
    if (size_ < kInline) {
      inline_[size_] = e;
    } else {
      MutableSpill().events.push_back(e);
    }
    ++size_;
  }

  size_t size() const { return size_; }
  int64_t last_time_us() const { return size_ == 0 ? 0 : At(size_ - 1).time_us; }
  // The worker named by the last event ("" if none): the lease holder while running.
  std::string_view last_worker() const {
    return size_ == 0 ? std::string_view() : WorkerOf(size_ - 1);
  }

  // Empties the trail for reuse by another record (the memory store recycles entries),
  // giving back any memory it held.
  void Clear() {
    size_ = 0;
    worker_.clear();
    worker_.shrink_to_fit();
    spill_.reset();
  }

  // The public form, with the id and sequence derived from the position.
  std::vector<AuditEvent> ToEvents(CommandId id) const {
    std::vector<AuditEvent> events;
    events.reserve(size_);
    for (size_t i = 0; i < size_; ++i) {
      const Event& e = At(i);
      events.push_back({.id = id,
                        .sequence = static_cast<uint32_t>(i),
                        .time_us = e.time_us,
                        .from = e.from,
                        .to = e.to,
                        .attempt = e.attempt,
                        .worker = std::string(WorkerOf(i)),
                        .message = e.has_message ? spill_->messages[i] : std::string()});
    }
    return events;
  }

 private:
  enum class WorkerRef : uint8_t { kNone, kShared, kOwn };

  struct Event {
    int64_t time_us = 0;
    uint32_t attempt = 0;
    State from = State::kNone;
    State to = State::kNone;
    WorkerRef worker = WorkerRef::kNone;
    bool has_message = false;
  };
  static_assert(sizeof(Event) == 16);

  // What most records never need; indexed by the event's position.
  struct Spill {
    std::vector<Event> events;  // past the inline ones
    std::vector<std::string> workers;
    std::vector<std::string> messages;
  };

  const Event& At(size_t i) const { return i < kInline ? inline_[i] : spill_->events[i - kInline]; }

  std::string_view WorkerOf(size_t i) const {
    switch (At(i).worker) {
      case WorkerRef::kShared:
        return worker_;
      case WorkerRef::kOwn:
        return spill_->workers[i];
      case WorkerRef::kNone:
        break;
    }
    return {};
  }

  Spill& MutableSpill() {
    if (!spill_) spill_ = std::make_unique<Spill>();
    return *spill_;
  }

  // Stores `value` at the position of the event being appended.
  void SetSpilled(std::vector<std::string>& column, const std::string& value) {
    if (column.size() <= size_) column.resize(size_ + 1);
    column[size_] = value;
  }

  std::array<Event, kInline> inline_;
  uint32_t size_ = 0;
  std::string worker_;  // the first worker an event named: the one most events name
  std::unique_ptr<Spill> spill_;
};

}  // namespace cmdq::store
