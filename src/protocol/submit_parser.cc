#include "protocol/submit_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "protocol/base64.h"
#include "protocol/json_reader.h"
#include "protocol/rfc3339.h"

namespace cmdq::protocol {
namespace {

namespace od = json::od;

// The fields of a submit, as bits: a field seen twice is refused, and the required
// ones and the payload pair are checked at the end.
enum FieldBit : uint32_t {
  kType = 1 << 0,
  kKey = 1 << 1,
  kPayload = 1 << 2,
  kPayloadB64 = 1 << 3,
  kIdempotencyKey = 1 << 4,
  kHeaders = 1 << 5,
  kNotBefore = 1 << 6,
  kMaxAttempts = 1 << 7,
  kTimeoutMs = 1 << 8,
};

struct FieldName {
  std::string_view name;
  FieldBit bit;
};
constexpr FieldName kFields[] = {
    {"type", kType},
    {"key", kKey},
    {"payload", kPayload},
    {"payload_b64", kPayloadB64},
    {"idempotency_key", kIdempotencyKey},
    {"headers", kHeaders},
    {"not_before", kNotBefore},
    {"max_attempts", kMaxAttempts},
    {"timeout_ms", kTimeoutMs},
};

Status TooLarge(std::string_view field, std::string_view what, size_t size, size_t max) {
  return Status(StatusCode::kResourceExhausted,
                fmt::format("{} of {} bytes is over the maximum of {}", what, size, max),
                std::string(field));
}

class CommandReader {
 public:
  explicit CommandReader(const SubmitLimits& limits) : limits_(limits) {}

  Result<Command> Read(od::object& object) {
    Status status = json::ForEachField(
        object, [this](std::string_view name, od::value& value) { return Field(name, value); });
    if (!status.ok()) return Error(std::move(status));
    if ((seen_ & kType) == 0) return Error(Status::InvalidArgument("type", "type is required"));
    if ((seen_ & kKey) == 0) return Error(Status::InvalidArgument("key", "key is required"));
    return std::move(command_);
  }

 private:
  Status Field(std::string_view name, od::value& value) {
    const auto* known = std::find_if(std::begin(kFields), std::end(kFields),
                                     [&](const FieldName& f) { return f.name == name; });
    if (known == std::end(kFields)) {
      if (Status s = json::Skip(value); !s.ok()) return s;
      return Status::InvalidArgument(std::string(name), fmt::format("unknown field \"{}\"", name));
    }
    if ((seen_ & known->bit) != 0) {
      if (Status s = json::Skip(value); !s.ok()) return s;
      return Status::InvalidArgument(std::string(name), fmt::format("{} appears twice", name));
    }
    seen_ |= known->bit;
    if (known->bit == kPayload) return Payload(value);
    // The other optional fields take null for "not given", as many JSON encoders write it.
    if (known->bit != kType && known->bit != kKey) {
      auto is_null = json::ConsumeNull(value);
      if (!is_null) return is_null.error();
      if (*is_null) {
        seen_ &= ~known->bit;
        return Status::Ok();
      }
    }
    switch (known->bit) {
      case kType:
        return String(value, name, command_.type);
      case kKey:
        return String(value, name, command_.key);
      case kPayloadB64:
        return PayloadB64(value);
      case kIdempotencyKey:
        return String(value, name, command_.idempotency_key);
      case kHeaders:
        return Headers(value);
      case kNotBefore:
        return NotBefore(value);
      case kMaxAttempts:
        return Unsigned(value, name, command_.max_attempts);
      case kTimeoutMs:
        return Unsigned(value, name, command_.timeout_ms);
      default:
        return Status::Internal("unhandled submit field");
    }
  }

  static Status String(od::value& value, std::string_view name, std::string& out) {
    auto text = json::GetString(value, name);
    if (!text) return text.error();
    out.assign(*text);
    return Status::Ok();
  }

  static Status Unsigned(od::value& value, std::string_view name, uint32_t& out) {
    auto number = json::GetUnsigned(value, name, std::numeric_limits<uint32_t>::max());
    if (!number) return number.error();
    out = static_cast<uint32_t>(*number);
    return Status::Ok();
  }

  Status BothPayloads(od::value& value) {
    if (Status s = json::Skip(value); !s.ok()) return s;
    return Status::InvalidArgument("payload", "give payload or payload_b64, not both");
  }

  Status Payload(od::value& value) {
    if ((seen_ & kPayloadB64) != 0) return BothPayloads(value);
    auto text = json::GetRawJson(value);
    if (!text) return text.error();
    if (text->size() > limits_.max_payload_bytes) {
      return TooLarge("payload", "payload", text->size(), limits_.max_payload_bytes);
    }
    command_.payload.assign(*text);
    command_.payload_is_json = true;
    return Status::Ok();
  }

  Status PayloadB64(od::value& value) {
    if ((seen_ & kPayload) != 0) return BothPayloads(value);
    auto text = json::GetString(value, "payload_b64");
    if (!text) return text.error();
    // Refuse by the text's size first, so that an oversized payload is never decoded.
    if (Base64DecodedBound(text->size()) > limits_.max_payload_bytes + 2) {
      return TooLarge("payload_b64", "payload_b64", Base64DecodedBound(text->size()),
                      limits_.max_payload_bytes);
    }
    auto bytes = Base64Decode(*text, "payload_b64");
    if (!bytes) return bytes.error();
    if (bytes->size() > limits_.max_payload_bytes) {
      return TooLarge("payload_b64", "payload_b64", bytes->size(), limits_.max_payload_bytes);
    }
    command_.payload = std::move(*bytes);
    command_.payload_is_json = false;
    return Status::Ok();
  }

  Status Headers(od::value& value) {
    auto object = json::GetObject(value, "headers");
    if (!object) return object.error();
    auto& headers = command_.headers;
    return json::ForEachField(*object, [&](std::string_view name, od::value& header) -> Status {
      const std::string field = fmt::format("headers.{}", name);
      auto text = json::GetString(header, field);
      if (!text) return text.error();
      if (headers.size() == limits_.max_headers) {
        return Status::InvalidArgument("headers",
                                       fmt::format("more than {} headers", limits_.max_headers));
      }
      const bool repeated = std::any_of(headers.begin(), headers.end(),
                                        [&](const auto& h) { return h.first == name; });
      if (repeated) return Status::InvalidArgument(field, fmt::format("{} appears twice", field));
      headers.emplace_back(name, *text);
      return Status::Ok();
    });
  }

  Status NotBefore(od::value& value) {
    auto text = json::GetString(value, "not_before");
    if (!text) return text.error();
    auto time = ParseRfc3339(*text, "not_before");
    if (!time) return time.error();
    command_.not_before_us = *time;
    return Status::Ok();
  }

  const SubmitLimits& limits_;
  Command command_;
  uint32_t seen_ = 0;
};

}  // namespace

Result<Command> ParseSubmit(std::string_view body, const SubmitLimits& limits) {
  auto doc = json::Reader::ForThread().Start(body);
  if (!doc) return Error(doc.error());
  auto root = json::GetRootObject(**doc, "a command is a JSON object");
  if (!root) return Error(root.error());
  od::object object = *root;
  auto command = CommandReader(limits).Read(object);
  if (!command && json::IsBodyError(command.error())) return command;
  // Trailing bytes make the whole body malformed, which outranks a field's error.
  if (Status s = json::CheckEnd(**doc); !s.ok()) return Error(s);
  return command;
}

Result<std::vector<Result<Command>>> ParseSubmitBatch(std::string_view body,
                                                      const SubmitLimits& limits) {
  std::vector<Result<Command>> results;
  Status status = json::ForEachBatchItem(
      body, {.noun = "command", .max_items = limits.max_batch}, [&](od::object* object) {
        if (object == nullptr) {
          results.push_back(
              Error(Status::InvalidArgument("item", "each command is a JSON object")));
          return Status::Ok();
        }
        results.push_back(CommandReader(limits).Read(*object));
        return results.back() ? Status::Ok() : results.back().error();
      });
  if (!status.ok()) return Error(status);
  return results;
}

bool IsBatchBody(std::string_view body) {
  const size_t first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && body[first] == '[';
}

}  // namespace cmdq::protocol
