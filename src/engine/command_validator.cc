#include "engine/command_validator.h"

#include <fmt/format.h>

#include <chrono>

namespace cmdq::engine {
namespace {

constexpr size_t kMaxKeyLength = 256;
constexpr size_t kMaxIdempotencyKeyLength = 256;
constexpr size_t kMaxHeaders = 64;
constexpr size_t kMaxHeaderBytes = 8192;

Status ValidateHeaders(const Command& c) {
  if (c.headers.size() > kMaxHeaders) {
    return Status::InvalidArgument("headers", fmt::format("more than {} headers", kMaxHeaders));
  }
  size_t bytes = 0;
  for (const auto& [name, value] : c.headers) {
    if (name.empty()) return Status::InvalidArgument("headers", "a header name is empty");
    bytes += name.size() + value.size();
  }
  if (bytes > kMaxHeaderBytes) {
    return Status::InvalidArgument("headers",
                                   fmt::format("headers exceed {} bytes", kMaxHeaderBytes));
  }
  return Status::Ok();
}

Status ValidateSchedule(const Command& c, const BusOptions& options, int64_t now_us) {
  if (c.not_before_us == 0) return Status::Ok();
  const int64_t bound_us =
      std::chrono::duration_cast<std::chrono::microseconds>(options.max_schedule_skew).count();
  if (c.not_before_us < now_us - bound_us || c.not_before_us > now_us + bound_us) {
    return Status::InvalidArgument(
        "not_before",
        fmt::format("not_before is more than {} s from now", options.max_schedule_skew.count()));
  }
  return Status::Ok();
}

}  // namespace

Status ValidateCommand(const Command& c, const TypeEntry* type, const BusOptions& options,
                       int64_t now_us) {
  if (c.id.valid()) return Status::InvalidArgument("id", "id is assigned by cmdq; leave it empty");
  if (c.type.empty()) return Status::InvalidArgument("type", "type is empty");
  if (type == nullptr) {
    return Status::InvalidArgument("type", fmt::format("unknown command type \"{}\"", c.type));
  }
  if (c.key.empty()) return Status::InvalidArgument("key", "key is empty");
  if (c.key.size() > kMaxKeyLength) {
    return Status::InvalidArgument("key",
                                   fmt::format("key is longer than {} bytes", kMaxKeyLength));
  }
  if (c.payload.size() > options.max_payload_bytes) {
    return Status::InvalidArgument(
        "payload", fmt::format("payload of {} bytes is over the maximum of {}", c.payload.size(),
                               options.max_payload_bytes));
  }
  if (c.idempotency_key.size() > kMaxIdempotencyKeyLength) {
    return Status::InvalidArgument(
        "idempotency_key",
        fmt::format("idempotency_key is longer than {} bytes", kMaxIdempotencyKeyLength));
  }
  if (Status s = ValidateHeaders(c); !s.ok()) return s;
  return ValidateSchedule(c, options, now_us);
}

}  // namespace cmdq::engine
