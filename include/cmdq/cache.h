// Cache: a result cache in front of the Store for terminal records, which never change
// once terminal except by undo or re-drive (both erase their entry). Backends: an
// in-process LRU now, Redis in cluster mode. Implementations are thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "cmdq/record.h"

namespace cmdq {

class Cache {
 public:
  virtual ~Cache() = default;
  virtual std::optional<Record> Get(CommandId id) = 0;
  virtual void Put(const Record& record) = 0;
  virtual void Erase(CommandId id) = 0;
};

// A sharded LRU holding at most `capacity` records (0 = caching off).
std::unique_ptr<Cache> NewLruCache(size_t capacity);

}  // namespace cmdq
