// ClaimMap: the idempotency keys' claims of one DedupTable shard, from a key's 128-bit
// digest to the command it created, in one flat array.
//
// With a key on every submit (the C++ client puts one on each) the table is full in
// steady state: every claim inserts one digest and drops the oldest. A node-based map
// pays cache misses for the bucket, the node and its free on each; here a digest and its
// id share a 32-byte slot, so a lookup is one miss, and Prefetch lets the drop of the
// oldest claims overlap theirs. Open addressing with linear probing at most half full;
// erasing shifts the rest of the run back (no tombstones), so churn never lengthens
// probes. The digest {0, 0} marks an empty slot: callers map a real one elsewhere.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cmdq/command_id.h"

namespace cmdq::engine {

struct KeyDigest {
  uint64_t low = 0;
  uint64_t high = 0;
  bool operator==(const KeyDigest&) const = default;
  bool empty() const { return low == 0 && high == 0; }
};

class ClaimMap {
 public:
  ClaimMap();

  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }

  // The id claimed under `digest`, or null. Valid until the next Insert or Erase.
  const CommandId* Find(const KeyDigest& digest) const;
  // Claims `digest` for `id` unless it is claimed: then returns the claim's id and
  // changes nothing. `digest` must not be empty.
  const CommandId* InsertOrFind(const KeyDigest& digest, CommandId id);
  // Drops the claim of `digest` if it is `id`'s; true if it did.
  bool EraseIf(const KeyDigest& digest, CommandId id);
  // Starts loading the line where `digest`'s probe begins.
  void Prefetch(const KeyDigest& digest) const { __builtin_prefetch(&slots_[Home(digest)]); }

 private:
  struct alignas(32) Slot {
    KeyDigest digest;
    CommandId id;
  };

  size_t Home(const KeyDigest& d) const { return d.low & mask_; }
  // The slot holding `digest`, or the empty slot that ends its probe.
  size_t Probe(const KeyDigest& digest) const;
  void Grow();

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace cmdq::engine
