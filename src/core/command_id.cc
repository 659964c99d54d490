#include "cmdq/command_id.h"

#include <algorithm>

namespace cmdq {
namespace {

constexpr int kTimeShift = CommandId::kNodeBits + CommandId::kSequenceBits;  // 22
constexpr uint64_t kSequenceMask = (uint64_t{1} << CommandId::kSequenceBits) - 1;
constexpr int64_t kMaxIdMs = (int64_t{1} << (64 - kTimeShift)) - 1;  // 42 bits

// Milliseconds since the id epoch, clamped into the 42 bits the layout has: a clock set
// before 2025 still yields increasing ids (the generator counts up from `last_`).
uint64_t IdMs(int64_t unix_ms) {
  return static_cast<uint64_t>(std::clamp<int64_t>(unix_ms - CommandId::kEpochUnixMs, 0, kMaxIdMs));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase too: one text per id, so text compares like the number
}

}  // namespace

int64_t CommandId::unix_ms() const {
  return static_cast<int64_t>(value_ >> kTimeShift) + kEpochUnixMs;
}

CommandId CommandId::FirstAt(int64_t unix_ms) { return CommandId(IdMs(unix_ms) << kTimeShift); }

std::string CommandId::ToString() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(16, '0');
  uint64_t v = value_;
  for (int i = 15; i >= 0; --i) {
    text[static_cast<size_t>(i)] = kDigits[v & 0xF];
    v >>= 4;
  }
  return text;
}

Result<CommandId> CommandId::Parse(std::string_view text) {
  if (text.size() != 16) {
    return Error(Status::InvalidArgument("id", "an id is 16 lowercase hex digits; got " +
                                                   std::to_string(text.size()) + " characters"));
  }
  uint64_t value = 0;
  for (char c : text) {
    int digit = HexValue(c);
    if (digit < 0) {
      return Error(Status::InvalidArgument(
          "id", "an id is 16 lowercase hex digits [0-9a-f]; got '" + std::string(text) + "'"));
    }
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  if (value == 0) {
    return Error(Status::InvalidArgument("id", "the zero id names no command"));
  }
  return CommandId(value);
}

// A node above kMaxNode is clamped to kMaxNode rather than masked: masking would collide
// silently with another node, and a constructor cannot return an error. Callers that take
// the node from configuration validate it first (0..1023).
IdGenerator::IdGenerator(uint32_t node, const Clock* clock)
    : node_(std::min(node, CommandId::kMaxNode)),
      clock_(clock != nullptr ? clock : SystemClock()) {}

CommandId IdGenerator::Next() { return NextAt(clock_->NowMicros()); }

CommandId IdGenerator::NextAt(int64_t now_us) {
  const uint64_t node_bits = uint64_t{node_} << CommandId::kSequenceBits;
  const uint64_t now = (IdMs(now_us / 1000) << kTimeShift) | node_bits;
  // Relaxed is enough: uniqueness and order come from the single modification order of
  // `last_`; ids publish no other memory.
  uint64_t last = last_.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t candidate = now;
    if (candidate <= last) {
      // The clock has not moved past the last id (same ms, or it went backwards): count
      // on from it, borrowing the next millisecond when the sequence is spent.
      candidate = (last & kSequenceMask) != kSequenceMask
                      ? last + 1
                      : ((((last >> kTimeShift) + 1) << kTimeShift) | node_bits);
    }
    if (last_.compare_exchange_weak(last, candidate, std::memory_order_relaxed)) {
      return CommandId(candidate);
    }
  }
}

}  // namespace cmdq
