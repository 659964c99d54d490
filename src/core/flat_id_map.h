// FlatIdMap: a hash map from a nonzero 64-bit id (a command id, a key's hash) to a small
// value, in one flat array.
//
// The memory store looks every record up several times per command (validate, apply,
// forget), and a partition looks up each task's key; a node-based map pays a cache miss
// for the bucket and another for the node on each. Here the id and value sit together in the array:
// one probe is one cache line. Open addressing with linear probing; erasing shifts the following
// items back instead of leaving tombstones, so probe lengths never grow with churn (retention
// erases as many records as are inserted). Ids are handed out in sequence, so neighbours are
// inserted, moved and forgotten close together in time: the four ids of an aligned group share a
// home cache line, and a run of them costs one miss instead of four.
//
// Id 0 is never a valid command id and marks an empty slot; Find(0) finds nothing and
// Insert(0, ...) is refused. V must be cheap to copy (a pointer, a State). Pointers returned
// by Find stay valid until the next Insert or Erase. Not thread-safe.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/backward_shift.h"

namespace cmdq {

template <typename V>
class FlatIdMap {
 public:
  explicit FlatIdMap(size_t expected = 0) { Rehash(CapacityFor(expected)); }

  size_t size() const { return size_; }
  size_t capacity() const { return lines_.size() * kSlotsPerLine; }

  V* Find(uint64_t id) {
    if (id == 0) return nullptr;
    for (size_t i = Home(id);; i = (i + 1) & mask_) {
      Slot& s = At(i);
      if (s.id == id) return &s.value;
      if (s.id == 0) return nullptr;
    }
  }
  const V* Find(uint64_t id) const { return const_cast<FlatIdMap*>(this)->Find(id); }
  bool contains(uint64_t id) const { return Find(id) != nullptr; }

  // False (and nothing changes) if the id is present or 0.
  bool Insert(uint64_t id, V value) {
    if (id == 0) return false;
    if ((size_ + 1) * kLoadDen > capacity() * kLoadNum) Rehash(capacity() * 2);
    for (size_t i = Home(id);; i = (i + 1) & mask_) {
      Slot& s = At(i);
      if (s.id == id) return false;
      if (s.id == 0) {
        s = {id, value};
        ++size_;
        return true;
      }
    }
  }

  // A hint that `id` will be looked up soon: starts loading its home line.
  void Prefetch(uint64_t id) const { __builtin_prefetch(&At(Home(id))); }

  // False if the id is absent.
  bool Erase(uint64_t id) {
    if (id == 0) return false;
    size_t hole = Home(id);
    while (At(hole).id != id) {
      if (At(hole).id == 0) return false;
      hole = (hole + 1) & mask_;
    }
    EraseByBackwardShift(
        hole, mask_, [this](size_t i) -> Slot& { return At(i); },
        [](const Slot& s) { return s.id == 0; }, [this](const Slot& s) { return Home(s.id); });
    --size_;
    return true;
  }

  // Calls f(id, value) for every item, in no particular order. f must not change the map.
  template <typename F>
  void ForEach(F&& f) const {
    for (const Line& line : lines_) {
      for (const Slot& s : line.slots) {
        if (s.id != 0) f(s.id, s.value);
      }
    }
  }

 private:
  struct Slot {
    uint64_t id = 0;
    V value{};
  };
  static constexpr size_t kSlotsPerLine = 4;
  struct alignas(64) Line {
    Slot slots[kSlotsPerLine];
  };
  static_assert(sizeof(Line) == 64, "V must fit in 8 bytes");

  // At most 5/8 full: short probe runs for misses too (every insert is a miss first).
  static constexpr size_t kLoadNum = 5;
  static constexpr size_t kLoadDen = 8;
  static constexpr size_t kMinCapacity = 16;

  static size_t CapacityFor(size_t expected) {
    return std::bit_ceil(std::max(kMinCapacity, expected * kLoadDen / kLoadNum + 1));
  }

  // Fibonacci hashing of the id's group (id / 4) picks the group's line: ids differ mostly
  // in their low bits (a sequence under a timestamp) and the multiply spreads them over the
  // top bits. The id's place in its group picks the slot in the line. The memory store
  // picks shards with a different multiplier, so the groups of one shard still spread.
  size_t Home(uint64_t id) const {
    const size_t line = ((id / kSlotsPerLine) * 0xD6E8FEB86659FD93ull) >> shift_;
    return line * kSlotsPerLine + id % kSlotsPerLine;
  }

  Slot& At(size_t i) { return lines_[i / kSlotsPerLine].slots[i % kSlotsPerLine]; }
  const Slot& At(size_t i) const { return lines_[i / kSlotsPerLine].slots[i % kSlotsPerLine]; }

  void Rehash(size_t capacity) {
    std::vector<Line> old = std::move(lines_);
    lines_.assign(capacity / kSlotsPerLine, Line{});
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity / kSlotsPerLine);
    size_ = 0;
    for (const Line& line : old) {
      for (const Slot& s : line.slots) {
        if (s.id != 0) Insert(s.id, s.value);
      }
    }
  }

  std::vector<Line> lines_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;
};

}  // namespace cmdq
