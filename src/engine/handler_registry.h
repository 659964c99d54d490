// The handler registry: command types, their handlers and policies. Filled before the
// Bus starts and read-only afterwards, so lookups from many threads need no lock.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cmdq/handler.h"
#include "cmdq/status.h"

namespace cmdq::engine {

struct TypeEntry {
  std::string name;
  Handler handler;
  TypeOptions options;
  // Run by remote workers (Bus::Lease ... Finish) instead of `handler`.
  bool remote = false;
  // Moving average of handler run time (ns); decides whether `running` is stored before
  // the run (slow types: visible while it runs) or with its outcome (fast types: one
  // store write instead of two).
  std::atomic<int64_t> avg_run_ns{0};
};

class HandlerRegistry {
 public:
  // kInvalidArgument naming the field: empty type, missing execute, max_attempts 0,
  // backoff or jitter out of range, a duplicate type.
  Status Register(std::string type, Handler handler, TypeOptions options);
  // A type without an in-process handler: remote workers lease its commands.
  Status RegisterRemote(std::string type, TypeOptions options);
  // Null when unknown.
  TypeEntry* Find(std::string_view type) const;
  size_t size() const { return types_.size(); }

 private:
  Status Add(std::string type, Handler handler, TypeOptions options, bool remote);
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<TypeEntry>, Hash, std::equal_to<>> types_;
};

}  // namespace cmdq::engine
