#include "engine/handler_registry.h"

#include <fmt/format.h>

namespace cmdq::engine {
namespace {

constexpr size_t kMaxTypeLength = 128;

Status ValidateOptions(const TypeOptions& o) {
  if (o.max_attempts == 0) {
    return Status::InvalidArgument("max_attempts", "max_attempts must be at least 1");
  }
  if (o.backoff_initial.count() < 0 || o.backoff_max < o.backoff_initial) {
    return Status::InvalidArgument("backoff_initial",
                                   "backoff_initial must be >= 0 and <= backoff_max");
  }
  if (!(o.backoff_multiplier >= 1.0) || o.backoff_multiplier > 100.0) {
    return Status::InvalidArgument("backoff_multiplier", "backoff_multiplier must be in [1, 100]");
  }
  if (!(o.jitter >= 0.0 && o.jitter <= 1.0)) {
    return Status::InvalidArgument("jitter", "jitter must be in [0, 1]");
  }
  if (o.timeout.count() < 0) {
    return Status::InvalidArgument("timeout", "timeout must be >= 0 (0 = none)");
  }
  if (o.ordered && o.max_concurrency_per_key != 0) {
    return Status::InvalidArgument("max_concurrency_per_key",
                                   "max_concurrency_per_key applies to unordered types only");
  }
  return Status::Ok();
}

}  // namespace

Status HandlerRegistry::Register(std::string type, Handler handler, TypeOptions options) {
  if (!handler.execute)
    return Status::InvalidArgument("execute", "handler has no execute function");
  return Add(std::move(type), std::move(handler), options, /*remote=*/false);
}

Status HandlerRegistry::RegisterRemote(std::string type, TypeOptions options) {
  return Add(std::move(type), Handler{}, options, /*remote=*/true);
}

Status HandlerRegistry::Add(std::string type, Handler handler, TypeOptions options, bool remote) {
  if (type.empty()) return Status::InvalidArgument("type", "type is empty");
  if (type.size() > kMaxTypeLength) {
    return Status::InvalidArgument("type",
                                   fmt::format("type is longer than {} bytes", kMaxTypeLength));
  }
  if (Status s = ValidateOptions(options); !s.ok()) return s;
  if (types_.contains(type)) {
    return Status::InvalidArgument("type", fmt::format("type \"{}\" is registered already", type));
  }
  auto entry = std::make_unique<TypeEntry>();
  entry->name = type;
  entry->handler = std::move(handler);
  entry->options = options;
  entry->remote = remote;
  types_.emplace(std::move(type), std::move(entry));
  return Status::Ok();
}

TypeEntry* HandlerRegistry::Find(std::string_view type) const {
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : it->second.get();
}

}  // namespace cmdq::engine
