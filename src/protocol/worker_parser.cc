#include "protocol/worker_parser.h"

#include <fmt/format.h>

#include <functional>
#include <initializer_list>

#include "protocol/base64.h"
#include "protocol/json_reader.h"

namespace cmdq::protocol {
namespace {

namespace od = json::od;
using FieldFn = std::function<Status(size_t index, od::value& value)>;

// Reads a body that is one JSON object whose members are all optional-or-null: calls
// on_field with the member's index in `names`, refuses unknown and repeated members, and
// returns the set of members given (bit i for names[i]) for the caller's required checks.
// `allow_empty`: an empty body reads as {}.
Result<uint32_t> ReadObject(std::string_view body, bool allow_empty,
                            std::initializer_list<std::string_view> names,
                            const FieldFn& on_field) {
  if (allow_empty && body.find_first_not_of(" \t\r\n") == std::string_view::npos) return 0u;
  auto doc = json::Reader::ForThread().Start(body);
  if (!doc) return Error(doc.error());
  auto root = json::GetRootObject(**doc, "the body must be a JSON object");
  if (!root) return Error(root.error());
  od::object object = *root;
  uint32_t seen = 0;
  Status status = json::ForEachField(object, [&](std::string_view name, od::value& value) {
    size_t index = 0;
    for (std::string_view known : names) {
      if (known == name) break;
      ++index;
    }
    if (index == names.size() || (seen & (1u << index)) != 0) {
      if (Status s = json::Skip(value); !s.ok()) return s;
      return Status::InvalidArgument(
          std::string(name), index == names.size() ? fmt::format("unknown field \"{}\"", name)
                                                   : fmt::format("{} appears twice", name));
    }
    auto is_null = json::ConsumeNull(value);
    if (!is_null) return is_null.error();
    if (*is_null) return Status::Ok();
    seen |= 1u << index;
    return on_field(index, value);
  });
  if (json::IsBodyError(status)) return Error(status);
  if (Status s = json::CheckEnd(**doc); !s.ok()) return Error(s);
  if (!status.ok()) return Error(status);
  return seen;
}

Status ReadUnsigned(od::value& value, std::string_view field, uint32_t min, uint32_t max,
                    uint32_t& out) {
  auto number = json::GetUnsigned(value, field, max);
  if (!number) return number.error();
  if (*number < min) {
    return Status::InvalidArgument(std::string(field),
                                   fmt::format("{} is out of range ({}..{})", field, min, max));
  }
  out = static_cast<uint32_t>(*number);
  return Status::Ok();
}

Status TooLarge(std::string_view field, size_t size, size_t max) {
  return Status(StatusCode::kResourceExhausted,
                fmt::format("{} of {} bytes is over the maximum of {}", field, size, max),
                std::string(field));
}

Status ReadTypes(od::value& value, const LeaseLimits& limits, std::vector<std::string>& types) {
  auto array = json::GetArray(value, "types");
  if (!array) return array.error();
  Status first;
  for (auto element : *array) {
    od::value item;
    if (auto error = std::move(element).get(item)) return json::SyntaxError(error);
    if (!first.ok()) {
      if (Status s = json::Skip(item); !s.ok()) return s;
      continue;
    }
    auto name = json::GetString(item, "types");
    if (!name) {
      if (json::IsBodyError(name.error())) return name.error();
      first = Status::InvalidArgument("types", "types must be an array of strings");
    } else if (name->empty()) {
      first = Status::InvalidArgument("types", "a type name is empty");
    } else if (types.size() == limits.max_types) {
      first = Status::InvalidArgument("types", fmt::format("more than {} types", limits.max_types));
    } else {
      types.emplace_back(*name);
    }
  }
  if (first.ok() && types.empty()) return Status::InvalidArgument("types", "types is empty");
  return first;
}

}  // namespace

Result<LeaseRequest> ParseLeaseRequest(std::string_view body, const LeaseLimits& limits) {
  LeaseRequest request;
  auto seen = ReadObject(
      body, false, {"types", "max", "wait_ms", "worker", "lease_ms"},
      [&](size_t index, od::value& value) -> Status {
        switch (index) {
          case 0:
            return ReadTypes(value, limits, request.types);
          case 1:
            return ReadUnsigned(value, "max", 1, limits.max_commands, request.max);
          case 2:
            return ReadUnsigned(value, "wait_ms", 0, limits.max_wait_ms, request.wait_ms);
          case 3: {
            auto worker = json::GetString(value, "worker");
            if (!worker) return worker.error();
            if (worker->empty()) return Status::InvalidArgument("worker", "worker is empty");
            if (worker->size() > limits.max_worker_bytes) {
              return Status::InvalidArgument(
                  "worker", fmt::format("worker is longer than {} bytes", limits.max_worker_bytes));
            }
            request.worker.assign(*worker);
            return Status::Ok();
          }
          default:
            return ReadUnsigned(value, "lease_ms", 0, limits.max_lease_ms, request.lease_ms);
        }
      });
  if (!seen) return Error(seen.error());
  if ((*seen & 1u) == 0) return Error(Status::InvalidArgument("types", "types is required"));
  if ((*seen & 8u) == 0) return Error(Status::InvalidArgument("worker", "worker is required"));
  return request;
}

Result<HeartbeatRequest> ParseHeartbeat(std::string_view body, const LeaseLimits& limits) {
  HeartbeatRequest request;
  auto seen = ReadObject(body, true, {"lease_ms"}, [&](size_t, od::value& value) {
    return ReadUnsigned(value, "lease_ms", 0, limits.max_lease_ms, request.lease_ms);
  });
  if (!seen) return Error(seen.error());
  return request;
}

Result<CompleteRequest> ParseComplete(std::string_view body, const LeaseLimits& limits) {
  CompleteRequest request;
  auto seen = ReadObject(body, true, {"result", "result_b64"}, [&](size_t index, od::value& value) {
    if (index == 0) {
      auto text = json::GetRawJson(value);
      if (!text) return text.error();
      if (text->size() > limits.max_result_bytes) {
        return TooLarge("result", text->size(), limits.max_result_bytes);
      }
      request.result.assign(*text);
      request.result_is_json = true;
      return Status::Ok();
    }
    auto text = json::GetString(value, "result_b64");
    if (!text) return text.error();
    if (Base64DecodedBound(text->size()) > limits.max_result_bytes + 2) {
      return TooLarge("result_b64", Base64DecodedBound(text->size()), limits.max_result_bytes);
    }
    auto bytes = Base64Decode(*text, "result_b64");
    if (!bytes) return bytes.error();
    if (bytes->size() > limits.max_result_bytes) {
      return TooLarge("result_b64", bytes->size(), limits.max_result_bytes);
    }
    request.result = std::move(*bytes);
    return Status::Ok();
  });
  if (!seen) return Error(seen.error());
  if (*seen == 3u) {
    return Error(Status::InvalidArgument("result", "give result or result_b64, not both"));
  }
  return request;
}

Result<FailRequest> ParseFail(std::string_view body, const LeaseLimits& limits) {
  FailRequest request;
  auto seen = ReadObject(body, false, {"error", "retryable"}, [&](size_t index, od::value& value) {
    if (index == 0) {
      auto text = json::GetString(value, "error");
      if (!text) return text.error();
      if (text->size() > limits.max_error_bytes) {
        return TooLarge("error", text->size(), limits.max_error_bytes);
      }
      request.error.assign(*text);
      return Status::Ok();
    }
    auto retryable = json::GetBool(value, "retryable");
    if (!retryable) return retryable.error();
    request.retryable = *retryable;
    return Status::Ok();
  });
  if (!seen) return Error(seen.error());
  if ((*seen & 1u) == 0) return Error(Status::InvalidArgument("error", "error is required"));
  return request;
}

}  // namespace cmdq::protocol
