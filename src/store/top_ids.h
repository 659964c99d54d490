// TopIds: keeps the `k` largest ids offered to it, for newest-first listing. A min-heap of
// at most k ids, so a scan of n records costs O(n log k) time and O(k) memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace cmdq::store {

class TopIds {
 public:
  explicit TopIds(size_t k) : k_(k) { heap_.reserve(k); }

  // False when the id cannot enter (the heap is full of larger ids): a caller walking ids
  // in descending order may stop there.
  bool Offer(uint64_t id) {
    if (k_ == 0) return false;
    if (heap_.size() < k_) {
      heap_.push_back(id);
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
      return true;
    }
    if (id <= heap_.front()) return false;
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    heap_.back() = id;
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
    return true;
  }

  bool full() const { return heap_.size() >= k_; }

  // The ids kept, largest first; leaves the collector empty.
  std::vector<uint64_t> TakeDescending() {
    std::sort(heap_.begin(), heap_.end(), std::greater<>());
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<uint64_t> heap_;
};

}  // namespace cmdq::store
