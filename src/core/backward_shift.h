// Erasing from a hash table with open addressing and linear probing, without tombstones:
// the items after the hole move back into it, so probe runs never grow with churn. The
// memory store's id map (core/flat_id_map.h) and the dedup table's claims
// (engine/claim_map.h) share it.
#pragma once

#include <cstddef>

namespace cmdq {

// Empties slot `hole` of a table of `mask + 1` slots. Each later item of the run moves
// into the hole unless that would put it before its home slot (the distances from home
// are compared modulo the size); the run ends at an empty slot. `slot(i)` is the i-th
// slot (a reference), `empty(s)` tells a free slot, `home(s)` an item's home index, and
// a value-initialised slot is a free one.
template <typename SlotAt, typename IsEmpty, typename HomeOf>
void EraseByBackwardShift(size_t hole, size_t mask, SlotAt&& slot, IsEmpty&& empty, HomeOf&& home) {
  for (size_t j = (hole + 1) & mask; !empty(slot(j)); j = (j + 1) & mask) {
    const size_t h = home(slot(j));
    if (((hole - h) & mask) <= ((j - h) & mask)) {
      slot(hole) = slot(j);
      hole = j;
    }
  }
  slot(hole) = {};
}

}  // namespace cmdq
