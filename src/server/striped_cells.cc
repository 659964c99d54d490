#include "server/striped_cells.h"

#include <algorithm>
#include <functional>

namespace cmdq::server {
namespace {

constexpr size_t kCellsPerLine = 64 / sizeof(std::atomic<uint64_t>);

}  // namespace

size_t ThisThreadStripe() {
  static std::atomic<size_t> next{0};
  thread_local const size_t stripe = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
  return stripe;
}

CellBlock::CellBlock(size_t width)
    : width_(width),
      stride_((width + kCellsPerLine - 1) / kCellsPerLine * kCellsPerLine),
      // Value-initialized: every cell starts at zero.
      cells_(new std::atomic<uint64_t>[stride_ * kStripes]()) {}

uint64_t CellBlock::Sum(size_t cell) const {
  uint64_t sum = 0;
  for (size_t s = 0; s < kStripes; ++s) {
    sum += cells_[s * stride_ + cell].load(std::memory_order_relaxed);
  }
  return sum;
}

void HistogramLayout::Observe(CellBlock& block, int64_t value) const {
  if (value < 0) value = 0;  // a clock that stepped back is not a negative duration
  // Prometheus buckets are "less or equal": the first bound >= value.
  const size_t bucket = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  block.Add(offset + bucket, 1);
  block.Add(offset + bounds.size() + 1, static_cast<uint64_t>(value));
}

std::pair<std::vector<uint64_t>, uint64_t> HistogramLayout::Read(const CellBlock& block) const {
  std::vector<uint64_t> counts(bounds.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = block.Sum(offset + i);
  return {std::move(counts), block.Sum(offset + bounds.size() + 1)};
}

LabelTable::LabelTable(size_t width, size_t max_values)
    : width_(width), max_values_(std::min(max_values, kSlots / 2 - 1)) {}

LabelTable::~LabelTable() = default;

LabelTable::Entry* LabelTable::Find(std::string_view label, size_t hash) const {
  for (size_t i = 0; i < kSlots; ++i) {
    Entry* entry = slots_[(hash + i) % kSlots].load(std::memory_order_acquire);
    if (entry == nullptr) return nullptr;
    if (entry->label == label) return entry;
  }
  return nullptr;
}

CellBlock& LabelTable::Get(std::string_view label) {
  const size_t hash = std::hash<std::string_view>{}(label);
  if (Entry* entry = Find(label, hash)) return entry->cells;
  return Insert(label, hash);
}

CellBlock& LabelTable::Insert(std::string_view label, size_t hash) {
  std::lock_guard lock(mu_);
  // Another thread may have inserted it since our lock-free look.
  if (Entry* entry = Find(label, hash)) return entry->cells;
  if (count_ >= max_values_ && label != kOverflowLabel) {
    const size_t other_hash = std::hash<std::string_view>{}(kOverflowLabel);
    if (Entry* other = Find(kOverflowLabel, other_hash)) return other->cells;
    label = kOverflowLabel;
    hash = other_hash;
  }
  auto owned = std::make_unique<Entry>(label, width_);
  Entry* entry = owned.get();
  owned_.push_back(std::move(owned));
  ++count_;
  size_t slot = hash % kSlots;
  while (slots_[slot].load(std::memory_order_relaxed) != nullptr) slot = (slot + 1) % kSlots;
  // Release: a reader that sees the pointer sees the constructed entry.
  slots_[slot].store(entry, std::memory_order_release);
  return entry->cells;
}

std::vector<std::pair<std::string_view, const CellBlock*>> LabelTable::Sorted() const {
  std::vector<std::pair<std::string_view, const CellBlock*>> out;
  for (const auto& slot : slots_) {
    if (const Entry* entry = slot.load(std::memory_order_acquire)) {
      out.emplace_back(entry->label, &entry->cells);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace cmdq::server
