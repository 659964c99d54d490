#include "engine/claim_map.h"

#include "core/backward_shift.h"

namespace cmdq::engine {
namespace {
constexpr size_t kMinCapacity = 64;
}  // namespace

ClaimMap::ClaimMap() : slots_(kMinCapacity), mask_(kMinCapacity - 1) {}

size_t ClaimMap::Probe(const KeyDigest& digest) const {
  size_t i = Home(digest);
  while (!slots_[i].digest.empty() && !(slots_[i].digest == digest)) i = (i + 1) & mask_;
  return i;
}

const CommandId* ClaimMap::Find(const KeyDigest& digest) const {
  const Slot& s = slots_[Probe(digest)];
  return s.digest.empty() ? nullptr : &s.id;
}

const CommandId* ClaimMap::InsertOrFind(const KeyDigest& digest, CommandId id) {
  size_t i = Probe(digest);
  if (!slots_[i].digest.empty()) return &slots_[i].id;
  if ((size_ + 1) * 2 > slots_.size()) {
    Grow();
    i = Probe(digest);
  }
  slots_[i] = {digest, id};
  ++size_;
  return nullptr;
}

bool ClaimMap::EraseIf(const KeyDigest& digest, CommandId id) {
  const size_t hole = Probe(digest);
  if (slots_[hole].digest.empty() || slots_[hole].id != id) return false;
  EraseByBackwardShift(
      hole, mask_, [this](size_t i) -> Slot& { return slots_[i]; },
      [](const Slot& s) { return s.digest.empty(); },
      [this](const Slot& s) { return Home(s.digest); });
  --size_;
  return true;
}

void ClaimMap::Grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (!s.digest.empty()) slots_[Probe(s.digest)] = s;
  }
}

}  // namespace cmdq::engine
