// CommandId: a 64-bit, time-ordered, unique identifier.
//
// Layout (most significant first): 42 bits of milliseconds since 2025-01-01 UTC (good
// until 2164), 10 bits of node id, 12 bits of sequence. Sorting ids sorts by submit
// time, so retention can delete a range of ids instead of scanning. The text form is 16
// lowercase hex digits, fixed width, so that text sorts like the number.
// CommandId is a plain value; IdGenerator is thread-safe.
#pragma once

#include <atomic>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "cmdq/clock.h"
#include "cmdq/status.h"

namespace cmdq {

class CommandId {
 public:
  static constexpr int64_t kEpochUnixMs = 1'735'689'600'000;  // 2025-01-01T00:00:00Z
  static constexpr int kSequenceBits = 12;
  static constexpr int kNodeBits = 10;
  static constexpr uint32_t kMaxNode = (1u << kNodeBits) - 1;

  constexpr CommandId() = default;
  constexpr explicit CommandId(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }
  constexpr bool valid() const { return value_ != 0; }
  // Milliseconds since the Unix epoch at which the id was made.
  int64_t unix_ms() const;

  // The smallest id made at or after `unix_ms`: the lower bound of a time range.
  static CommandId FirstAt(int64_t unix_ms);

  std::string ToString() const;  // 16 lowercase hex digits
  // Accepts exactly the form ToString() makes; anything else is kInvalidArgument.
  static Result<CommandId> Parse(std::string_view text);

  friend constexpr auto operator<=>(CommandId, CommandId) = default;

 private:
  uint64_t value_ = 0;
};

// Makes ids unique across threads within one node: a lock-free compare-and-swap on the
// last id made. When more than 4096 ids are asked for in one millisecond, the generator
// borrows the next millisecond, so ids stay unique and increasing.
class IdGenerator {
 public:
  // A node above kMaxNode is clamped to kMaxNode (a constructor cannot fail): callers that
  // read the node from configuration check it first.
  explicit IdGenerator(uint32_t node = 0, const Clock* clock = SystemClock());
  CommandId Next();
  // The same, with the generator's clock read already by the caller (`now_us`): a submit
  // stamps its command and makes its id from one reading.
  CommandId NextAt(int64_t now_us);
  uint32_t node() const { return node_; }

 private:
  const uint32_t node_;
  const Clock* clock_;
  std::atomic<uint64_t> last_{0};
};

struct CommandIdHash {
  size_t operator()(CommandId id) const { return std::hash<uint64_t>{}(id.value()); }
};

}  // namespace cmdq
