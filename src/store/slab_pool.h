// SlabPool: objects of one type carved from slabs and recycled through a free list.
//
// The memory store creates and forgets a record per command at millions a second. Taking
// each from a slab and handing it back on release costs no allocator call in the steady
// state, keeps addresses stable (the store's id map and retention queue point at them) and
// reuses the most recently released object first, whose memory is still in cache.
// Released objects are not destroyed: the caller resets what it must before Release.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace cmdq::store {

template <typename T, size_t kSlabSize = 256>
class SlabPool {
 public:
  SlabPool() = default;
  SlabPool(const SlabPool&) = delete;
  SlabPool& operator=(const SlabPool&) = delete;

  // A default-constructed object, or one released earlier as it was left.
  T* Allocate() {
    if (!free_.empty()) {
      T* object = free_.back();
      free_.pop_back();
      // The next one out was released a while ago and is likely cold: start loading it
      // now, so that the miss overlaps with the caller's work until its next Allocate.
      if (!free_.empty()) Prefetch(free_.back());
      return object;
    }
    if (slabs_.empty() || used_ == kSlabSize) {
      slabs_.push_back(std::make_unique<T[]>(kSlabSize));
      used_ = 0;
    }
    return &slabs_.back()[used_++];
  }

  // `object` came from this pool's Allocate and is no longer used.
  void Release(T* object) { free_.push_back(object); }

  // Objects handed out and not released.
  size_t live() const {
    return slabs_.empty() ? 0 : (slabs_.size() - 1) * kSlabSize + used_ - free_.size();
  }

 private:
  static void Prefetch(const T* object) {
    const char* bytes = reinterpret_cast<const char*>(object);
    for (size_t offset = 0; offset < sizeof(T) && offset < 256; offset += 64) {
      __builtin_prefetch(bytes + offset, 1);
    }
  }

  std::vector<std::unique_ptr<T[]>> slabs_;
  size_t used_ = 0;  // of the last slab
  std::vector<T*> free_;
};

}  // namespace cmdq::store
