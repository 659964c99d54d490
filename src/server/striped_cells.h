// Striped counter cells and a lock-free label table: the storage under Metrics.
//
// A CellBlock is `width` uint64 counters, repeated once per stripe; a thread adds to the
// stripe it was given on first use, so threads on different cores rarely share a cache
// line, and a reader sums the stripes. Adds are relaxed: a scrape sees each add at most
// a moment late, never torn, and counters never go back.
//
// A LabelTable maps a label value (a type name, a route) to its CellBlock. Lookups of a
// value seen before take no lock: entries are published once into a fixed array of
// atomic slots and never move or go away until the table does. New values take a mutex.
// Past `max_values` distinct values, new ones share the block of "_other".
// Both are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cmdq::server {

// Stripes per block: more than the cores of most machines we run on, few enough that a
// scrape summing them stays cheap.
inline constexpr size_t kStripes = 8;

// The calling thread's stripe (0..kStripes-1), assigned round-robin on first use.
size_t ThisThreadStripe();

class CellBlock {
 public:
  explicit CellBlock(size_t width);
  CellBlock(const CellBlock&) = delete;
  CellBlock& operator=(const CellBlock&) = delete;

  size_t width() const { return width_; }
  void Add(size_t cell, uint64_t n) {
    cells_[ThisThreadStripe() * stride_ + cell].fetch_add(n, std::memory_order_relaxed);
  }
  // The cell summed over all stripes.
  uint64_t Sum(size_t cell) const;

 private:
  size_t width_;
  size_t stride_;  // width rounded up to whole cache lines, so stripes never share one
  std::unique_ptr<std::atomic<uint64_t>[]> cells_;
};

// A histogram laid out in a CellBlock from `offset`: one cell per bucket (the last is
// +Inf), then the sum of the observed values. Values and bounds are integers in the
// histogram's unit (ns, or a count); `bounds` must be sorted and outlive the layout.
struct HistogramLayout {
  std::span<const int64_t> bounds;
  size_t offset = 0;

  constexpr size_t width() const { return bounds.size() + 2; }
  void Observe(CellBlock& block, int64_t value) const;
  // Per-bucket (not cumulative) counts, +Inf last, and the sum.
  std::pair<std::vector<uint64_t>, uint64_t> Read(const CellBlock& block) const;
};

class LabelTable {
 public:
  LabelTable(size_t width, size_t max_values);
  ~LabelTable();
  LabelTable(const LabelTable&) = delete;
  LabelTable& operator=(const LabelTable&) = delete;

  // The block of `label`, created (zeroed) on first use. Never fails.
  CellBlock& Get(std::string_view label);
  // Every label and its block, sorted by label: for rendering.
  std::vector<std::pair<std::string_view, const CellBlock*>> Sorted() const;

  static constexpr std::string_view kOverflowLabel = "_other";

 private:
  struct Entry {
    Entry(std::string_view l, size_t width) : label(l), cells(width) {}
    std::string label;
    CellBlock cells;
  };
  // Twice the largest number of entries: probes stay short, and a probe always ends at
  // an empty slot.
  static constexpr size_t kSlots = 1024;

  Entry* Find(std::string_view label, size_t hash) const;
  CellBlock& Insert(std::string_view label, size_t hash);

  const size_t width_;
  const size_t max_values_;
  std::array<std::atomic<Entry*>, kSlots> slots_{};
  std::mutex mu_;
  size_t count_ = 0;                           // guarded by mu_
  std::vector<std::unique_ptr<Entry>> owned_;  // guarded by mu_
};

}  // namespace cmdq::server
