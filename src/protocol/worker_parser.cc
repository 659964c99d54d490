#include "protocol/worker_parser.h"

#include <fmt/format.h>

#include <array>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>

#include "protocol/base64.h"
#include "protocol/json_reader.h"
#include "protocol/query_parser.h"

namespace cmdq::protocol {
namespace {

namespace od = json::od;
using FieldFn = std::function<Status(size_t index, od::value& value)>;

// Reads the members of `object`, all optional-or-null: calls on_field with the member's
// index in `names`, refuses unknown and repeated members, and returns the set of members
// given (bit i for names[i]) for the caller's required checks.
Result<uint32_t> ReadMembers(od::object& object, std::span<const std::string_view> names,
                             const FieldFn& on_field) {
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
  if (!status.ok()) return Error(status);
  return seen;
}

// A body that is one JSON object, read with ReadMembers. `allow_empty`: an empty body
// reads as {}.
Result<uint32_t> ReadObject(std::string_view body, bool allow_empty,
                            std::span<const std::string_view> names, const FieldFn& on_field) {
  if (allow_empty && body.find_first_not_of(" \t\r\n") == std::string_view::npos) return 0u;
  auto doc = json::Reader::ForThread().Start(body);
  if (!doc) return Error(doc.error());
  auto root = json::GetRootObject(**doc, "the body must be a JSON object");
  if (!root) return Error(root.error());
  od::object object = *root;
  auto seen = ReadMembers(object, names, on_field);
  if (!seen && json::IsBodyError(seen.error())) return seen;
  if (Status s = json::CheckEnd(**doc); !s.ok()) return Error(s);
  return seen;
}

Result<uint32_t> ReadMembers(od::object& object, std::initializer_list<std::string_view> names,
                             const FieldFn& on_field) {
  return ReadMembers(object, std::span(names.begin(), names.size()), on_field);
}

Result<uint32_t> ReadObject(std::string_view body, bool allow_empty,
                            std::initializer_list<std::string_view> names,
                            const FieldFn& on_field) {
  return ReadObject(body, allow_empty, std::span(names.begin(), names.size()), on_field);
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

// The members of a lease request, in this order.
constexpr std::array<std::string_view, 5> kLeaseMembers = {"types", "max", "wait_ms", "worker",
                                                           "lease_ms"};

FieldFn LeaseReader(const LeaseLimits& limits, LeaseRequest& request) {
  return [&limits, &request](size_t index, od::value& value) -> Status {
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
  };
}

Status CheckLease(uint32_t seen) {
  if ((seen & 1u) == 0) return Status::InvalidArgument("types", "types is required");
  if ((seen & 8u) == 0) return Status::InvalidArgument("worker", "worker is required");
  return Status::Ok();
}

}  // namespace

Result<LeaseRequest> ParseLeaseRequest(std::string_view body, const LeaseLimits& limits) {
  LeaseRequest request;
  auto seen = ReadObject(body, false, kLeaseMembers, LeaseReader(limits, request));
  if (!seen) return Error(seen.error());
  if (Status s = CheckLease(*seen); !s.ok()) return Error(s);
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

namespace {

// The members of a complete or a fail, in this order; a completion item adds "id" last.
constexpr uint32_t kLeaseBit = 1u << 0, kResultBit = 1u << 1, kResultB64Bit = 1u << 2,
                   kErrorBit = 1u << 3, kRetryableBit = 1u << 4, kIdBit = 1u << 5;

Status ReadLease(od::value& value, std::string& lease) {
  auto text = json::GetString(value, "lease");
  if (!text) return text.error();
  auto token = ParseLeaseSegment(*text);
  if (!token) return token.error();
  lease = std::move(*token);
  return Status::Ok();
}

Status ReadResult(od::value& value, const LeaseLimits& limits, CompleteRequest& request) {
  auto text = json::GetRawJson(value);
  if (!text) return text.error();
  if (text->size() > limits.max_result_bytes) {
    return TooLarge("result", text->size(), limits.max_result_bytes);
  }
  request.result.assign(*text);
  request.result_is_json = true;
  return Status::Ok();
}

Status ReadResultB64(od::value& value, const LeaseLimits& limits, CompleteRequest& request) {
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
}

Status ReadError(od::value& value, const LeaseLimits& limits, FailRequest& request) {
  auto text = json::GetString(value, "error");
  if (!text) return text.error();
  if (text->size() > limits.max_error_bytes) {
    return TooLarge("error", text->size(), limits.max_error_bytes);
  }
  request.error.assign(*text);
  return Status::Ok();
}

Status ReadRetryable(od::value& value, FailRequest& request) {
  auto retryable = json::GetBool(value, "retryable");
  if (!retryable) return retryable.error();
  request.retryable = *retryable;
  return Status::Ok();
}

// What one complete or fail object says, read with every member allowed; the callers
// then check which members belong together.
struct OutcomeMembers {
  CompleteRequest complete;
  FailRequest fail;
  CommandId id;
};

FieldFn OutcomeReader(const LeaseLimits& limits, OutcomeMembers& out) {
  return [&limits, &out](size_t index, od::value& value) -> Status {
    switch (index) {
      case 0:
        return ReadLease(value, out.complete.lease);
      case 1:
        return ReadResult(value, limits, out.complete);
      case 2:
        return ReadResultB64(value, limits, out.complete);
      case 3:
        return ReadError(value, limits, out.fail);
      case 4:
        return ReadRetryable(value, out.fail);
      default: {
        auto text = json::GetString(value, "id");
        if (!text) return text.error();
        auto id = ParseIdSegment(*text);
        if (!id) return id.error();
        out.id = *id;
        return Status::Ok();
      }
    }
  };
}

Status CheckComplete(uint32_t seen) {
  if ((seen & kLeaseBit) == 0) return Status::InvalidArgument("lease", "lease is required");
  if ((seen & kResultBit) && (seen & kResultB64Bit)) {
    return Status::InvalidArgument("result", "give result or result_b64, not both");
  }
  return Status::Ok();
}

Status CheckFail(uint32_t seen) {
  if ((seen & kLeaseBit) == 0) return Status::InvalidArgument("lease", "lease is required");
  if ((seen & kErrorBit) == 0) return Status::InvalidArgument("error", "error is required");
  return Status::Ok();
}

// A completion item is a fail when it has "error", else a complete; members of the other
// kind are refused by name.
Result<CompletionItem> ReadCompletionItem(od::object& object, const LeaseLimits& limits) {
  OutcomeMembers members;
  auto seen = ReadMembers(object, {"lease", "result", "result_b64", "error", "retryable", "id"},
                          OutcomeReader(limits, members));
  if (!seen) return Error(seen.error());
  if ((*seen & kIdBit) == 0) return Error(Status::InvalidArgument("id", "id is required"));
  CompletionItem item{.id = members.id, .outcome = {}};
  if (*seen & kErrorBit) {
    if (*seen & (kResultBit | kResultB64Bit)) {
      return Error(Status::InvalidArgument(
          "error", "an item has error (a fail) or result (a complete), not both"));
    }
    if (Status s = CheckFail(*seen); !s.ok()) return Error(s);
    members.fail.lease = std::move(members.complete.lease);
    item.outcome = std::move(members.fail);
    return item;
  }
  if (*seen & kRetryableBit) {
    return Error(Status::InvalidArgument("retryable", "retryable goes with error (a fail)"));
  }
  if (Status s = CheckComplete(*seen); !s.ok()) return Error(s);
  item.outcome = std::move(members.complete);
  return item;
}

}  // namespace

Result<CompleteRequest> ParseComplete(std::string_view body, const LeaseLimits& limits) {
  OutcomeMembers members;
  auto seen =
      ReadObject(body, false, {"lease", "result", "result_b64"}, OutcomeReader(limits, members));
  if (!seen) return Error(seen.error());
  if (Status s = CheckComplete(*seen); !s.ok()) return Error(s);
  return std::move(members.complete);
}

Result<FailRequest> ParseFail(std::string_view body, const LeaseLimits& limits) {
  OutcomeMembers members;
  // The reader's indexes are those of the complete's names, so a fail lists them all and
  // refuses the result members itself.
  auto seen = ReadObject(body, false, {"lease", "result", "result_b64", "error", "retryable"},
                         OutcomeReader(limits, members));
  if (!seen) return Error(seen.error());
  if (*seen & (kResultBit | kResultB64Bit)) {
    const char* field = (*seen & kResultBit) ? "result" : "result_b64";
    return Error(Status::InvalidArgument(field, fmt::format("unknown field \"{}\"", field)));
  }
  if (Status s = CheckFail(*seen); !s.ok()) return Error(s);
  members.fail.lease = std::move(members.complete.lease);
  return std::move(members.fail);
}

Result<std::vector<Result<CompletionItem>>> ParseCompletions(std::string_view body,
                                                             const LeaseLimits& limits) {
  std::vector<Result<CompletionItem>> results;
  Status status = json::ForEachBatchItem(
      body, {.noun = "outcome", .max_items = limits.max_completions}, [&](od::object* object) {
        if (object == nullptr) {
          results.push_back(
              Error(Status::InvalidArgument("item", "each outcome is a JSON object")));
          return Status::Ok();
        }
        results.push_back(ReadCompletionItem(*object, limits));
        return results.back() ? Status::Ok() : results.back().error();
      });
  if (!status.ok()) return Error(status);
  return results;
}

namespace {

// An error of a member of the nested lease request names it as "lease.<member>".
Status InLease(Status s) {
  if (s.ok() || json::IsBodyError(s)) return s;
  return Status(s.code(), "lease: " + s.message(),
                s.field().empty() ? "lease" : "lease." + s.field());
}

}  // namespace

Result<CompletionsRequest> ParseCompletionsRequest(std::string_view body,
                                                   const LeaseLimits& limits) {
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || body[first] != '{') {
    auto items = ParseCompletions(body, limits);
    if (!items) return Error(items.error());
    return CompletionsRequest{.items = std::move(*items), .lease = std::nullopt};
  }
  CompletionsRequest request;
  size_t outcomes = 0;
  auto seen =
      ReadObject(body, false, {"outcomes", "lease"}, [&](size_t index, od::value& value) -> Status {
        if (index == 1) {
          auto object = json::GetObject(value, "lease");
          if (!object) return object.error();
          LeaseRequest lease;
          auto members = ReadMembers(*object, kLeaseMembers, LeaseReader(limits, lease));
          if (!members) return InLease(members.error());
          if (Status s = CheckLease(*members); !s.ok()) return InLease(s);
          request.lease = std::move(lease);
          return Status::Ok();
        }
        auto array = json::GetArray(value, "outcomes");
        if (!array) return array.error();
        return json::ForEachBatchItemIn(
            *array, {.noun = "outcome", .max_items = limits.max_completions}, "outcomes",
            [&](od::object* object) {
              if (object == nullptr) {
                request.items.push_back(
                    Error(Status::InvalidArgument("item", "each outcome is a JSON object")));
                return Status::Ok();
              }
              request.items.push_back(ReadCompletionItem(*object, limits));
              return request.items.back() ? Status::Ok() : request.items.back().error();
            },
            outcomes);
      });
  if (!seen) return Error(seen.error());
  if ((*seen & 1u) == 0 && !request.lease) {
    return Error(Status::InvalidArgument("body", "give outcomes, a lease, or both"));
  }
  if (outcomes == 0 && !request.lease) {
    return Error(Status::InvalidArgument("outcomes", "the batch is empty"));
  }
  return request;
}

}  // namespace cmdq::protocol
