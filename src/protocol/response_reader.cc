#include "protocol/response_reader.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

#include "protocol/base64.h"
#include "protocol/json_reader.h"
#include "protocol/rfc3339.h"

namespace cmdq::protocol {
namespace {

namespace od = json::od;

Status Corrupt(const Status& cause) {
  return Status(StatusCode::kCorruption,
                fmt::format("the server's answer does not parse: {}", cause.message()),
                cause.field());
}

// Runs on_field over the members of the body's top-level object, errors as Corrupt.
template <typename OnField>
Status ReadRootObject(std::string_view body, OnField&& on_field) {
  auto doc = json::Reader::ForThread().Start(body);
  if (!doc) return Corrupt(doc.error());
  auto root = json::GetRootObject(**doc, "the answer must be a JSON object");
  if (!root) return Corrupt(root.error());
  Status status = json::ForEachField(*root, on_field);
  if (status.ok()) status = json::CheckEnd(**doc);
  return status.ok() ? status : Corrupt(status);
}

// Calls on_item(value) for each element of an array member.
template <typename OnItem>
Status ForEachItem(od::value& value, std::string_view field, OnItem&& on_item) {
  auto array = json::GetArray(value, field);
  if (!array) return array.error();
  for (auto element : *array) {
    od::value item;
    if (auto error = std::move(element).get(item)) return json::SyntaxError(error);
    if (Status s = on_item(item); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<std::string> OptionalString(od::value& value, std::string_view field) {
  auto is_null = json::ConsumeNull(value);
  if (!is_null) return Error(is_null.error());
  if (*is_null) return std::string();
  auto text = json::GetString(value, field);
  if (!text) return Error(text.error());
  return std::string(*text);
}

Result<int64_t> OptionalTime(od::value& value, std::string_view field) {
  auto is_null = json::ConsumeNull(value);
  if (!is_null) return Error(is_null.error());
  if (*is_null) return int64_t{0};
  auto text = json::GetString(value, field);
  if (!text) return Error(text.error());
  return ParseRfc3339(*text, field);
}

Status ReadUint32(od::value& value, std::string_view field, uint32_t& out) {
  auto number = json::GetUnsigned(value, field, UINT32_MAX);
  if (!number) return number.error();
  out = static_cast<uint32_t>(*number);
  return Status::Ok();
}

Status ReadString(od::value& value, std::string_view field, std::string& out) {
  auto text = OptionalString(value, field);
  if (!text) return text.error();
  out = std::move(*text);
  return Status::Ok();
}

Status ReadTime(od::value& value, std::string_view field, int64_t& out) {
  auto time = OptionalTime(value, field);
  if (!time) return time.error();
  out = *time;
  return Status::Ok();
}

Status ReadId(od::value& value, CommandId& out) {
  auto text = json::GetString(value, "id");
  if (!text) return text.error();
  auto id = CommandId::Parse(*text);
  if (!id) return id.error();
  out = *id;
  return Status::Ok();
}

Status ReadBase64(od::value& value, std::string_view field, std::string& out) {
  auto text = json::GetString(value, field);
  if (!text) return text.error();
  auto bytes = Base64Decode(*text, field);
  if (!bytes) return bytes.error();
  out = std::move(*bytes);
  return Status::Ok();
}

// A JSON value kept as its text; null is "no value" (an empty result).
Status ReadRaw(od::value& value, std::string& out, bool& is_json) {
  auto is_null = json::ConsumeNull(value);
  if (!is_null) return is_null.error();
  if (*is_null) return Status::Ok();
  auto text = json::GetRawJson(value);
  if (!text) return text.error();
  out.assign(*text);
  is_json = true;
  return Status::Ok();
}

Status ReadHeaders(od::value& value, Command& c) {
  auto is_null = json::ConsumeNull(value);
  if (!is_null) return is_null.error();
  if (*is_null) return Status::Ok();
  auto object = json::GetObject(value, "headers");
  if (!object) return object.error();
  return json::ForEachField(*object, [&](std::string_view name, od::value& header) {
    auto text = json::GetString(header, "headers");
    if (!text) return text.error();
    c.headers.emplace_back(std::string(name), std::string(*text));
    return Status::Ok();
  });
}

// The members a record and a lease share. `handled` says whether `name` was one.
Status ReadCommandMember(std::string_view name, od::value& value, Command& c, bool& handled) {
  handled = true;
  if (name == "id") return ReadId(value, c.id);
  if (name == "type") return ReadString(value, name, c.type);
  if (name == "key") return ReadString(value, name, c.key);
  if (name == "payload") return ReadRaw(value, c.payload, c.payload_is_json);
  if (name == "payload_b64") return ReadBase64(value, name, c.payload);
  if (name == "headers") return ReadHeaders(value, c);
  if (name == "timeout_ms") return ReadUint32(value, name, c.timeout_ms);
  handled = false;
  return Status::Ok();
}

Status ReadRecordMember(std::string_view name, od::value& value, Record& r) {
  bool handled = false;
  Status status = ReadCommandMember(name, value, r.command, handled);
  if (handled) return status;
  Command& c = r.command;
  if (name == "idempotency_key") return ReadString(value, name, c.idempotency_key);
  if (name == "not_before") return ReadTime(value, name, c.not_before_us);
  if (name == "max_attempts") return ReadUint32(value, name, c.max_attempts);
  if (name == "created_at") return ReadTime(value, name, c.created_at_us);
  if (name == "state") {
    auto text = json::GetString(value, name);
    if (!text) return text.error();
    auto state = ParseState(*text);
    if (!state) return state.error();
    r.state = *state;
    return Status::Ok();
  }
  if (name == "attempt") return ReadUint32(value, name, r.attempt);
  if (name == "worker") return ReadString(value, name, r.lease_worker);
  if (name == "lease_expires_at") return ReadTime(value, name, r.lease_expires_us);
  if (name == "result") {
    bool is_json = false;
    return ReadRaw(value, r.result, is_json);
  }
  if (name == "result_b64") return ReadBase64(value, name, r.result);
  if (name == "error") return ReadString(value, name, r.error);
  if (name == "next_attempt_at") return ReadTime(value, name, r.next_attempt_us);
  if (name == "updated_at") return ReadTime(value, name, r.updated_at_us);
  return json::Skip(value);
}

// {"code","message","field"}: the object inside {"error": ...}.
Result<Status> ReadErrorObject(od::value& value) {
  auto object = json::GetObject(value, "error");
  if (!object) return Error(object.error());
  std::string code_name, message, field;
  Status status = json::ForEachField(*object, [&](std::string_view name, od::value& member) {
    if (name == "code") return ReadString(member, name, code_name);
    if (name == "message") return ReadString(member, name, message);
    if (name == "field") return ReadString(member, name, field);
    return json::Skip(member);
  });
  if (!status.ok()) return Error(status);
  auto code = ParseStatusCode(code_name);
  if (!code || *code == StatusCode::kOk) {
    // A code from a newer server: keep its name where a person will see it.
    return Status(StatusCode::kInternal, fmt::format("{}: {}", code_name, message),
                  std::move(field));
  }
  return Status(*code, std::move(message), std::move(field));
}

// An item of a "results" array: an object with "id" (`on_member` sees every member) or
// with "error" as an object. Returns the item's error, or OK.
template <typename OnMember>
Result<Status> ReadResultItem(od::value& item, OnMember&& on_member) {
  auto object = json::GetObject(item, "results");
  if (!object) return Error(object.error());
  Status item_error;
  Status status = json::ForEachField(*object, [&](std::string_view name, od::value& member) {
    if (name == "error") {
      auto type = member.type();
      if (!type.error() && type.value_unsafe() == od::json_type::object) {
        auto error = ReadErrorObject(member);
        if (!error) return error.error();
        item_error = std::move(*error);
        return Status::Ok();
      }
    }
    return on_member(name, member);
  });
  if (!status.ok()) return Error(status);
  return item_error;
}

// {"results":[...]}: calls on_item(value) per element.
template <typename OnItem>
Status ReadResults(std::string_view body, OnItem&& on_item) {
  return ReadRootObject(body, [&](std::string_view name, od::value& value) {
    if (name != "results") return json::Skip(value);
    return ForEachItem(value, name, on_item);
  });
}

}  // namespace

Result<Record> ParseRecordJson(std::string_view body) {
  Record record;
  Status status = ReadRootObject(body, [&](std::string_view name, od::value& value) {
    return ReadRecordMember(name, value, record);
  });
  if (!status.ok()) return Error(status);
  return record;
}

Result<ListPage> ParseListPageJson(std::string_view body) {
  ListPage page;
  Status status = ReadRootObject(body, [&](std::string_view name, od::value& value) {
    if (name == "next_cursor") {
      auto is_null = json::ConsumeNull(value);
      if (!is_null) return is_null.error();
      return *is_null ? Status::Ok() : ReadId(value, page.next_cursor);
    }
    if (name != "records") return json::Skip(value);
    return ForEachItem(value, name, [&](od::value& item) {
      auto object = json::GetObject(item, "records");
      if (!object) return object.error();
      Record& record = page.records.emplace_back();
      return json::ForEachField(*object, [&](std::string_view member, od::value& v) {
        return ReadRecordMember(member, v, record);
      });
    });
  });
  if (!status.ok()) return Error(status);
  return page;
}

Result<std::vector<AuditEvent>> ParseAuditJson(std::string_view body, CommandId id) {
  std::vector<AuditEvent> events;
  auto read_state = [](od::value& value, std::string_view field, State& out) {
    std::string name;
    if (Status s = ReadString(value, field, name); !s.ok()) return s;
    if (name.empty()) return Status::Ok();  // null: "did not exist" (kNone)
    auto state = ParseState(name);
    if (!state) return state.error();
    out = *state;
    return Status::Ok();
  };
  Status status = ReadRootObject(body, [&](std::string_view name, od::value& value) {
    if (name != "events") return json::Skip(value);
    return ForEachItem(value, name, [&](od::value& item) {
      auto object = json::GetObject(item, "events");
      if (!object) return object.error();
      AuditEvent& e = events.emplace_back();
      e.id = id;
      return json::ForEachField(*object, [&](std::string_view member, od::value& v) {
        if (member == "seq") return ReadUint32(v, member, e.sequence);
        if (member == "time") return ReadTime(v, member, e.time_us);
        if (member == "from") return read_state(v, member, e.from);
        if (member == "to") return read_state(v, member, e.to);
        if (member == "attempt") return ReadUint32(v, member, e.attempt);
        if (member == "worker") return ReadString(v, member, e.worker);
        if (member == "message") return ReadString(v, member, e.message);
        return json::Skip(v);
      });
    });
  });
  if (!status.ok()) return Error(status);
  return events;
}

namespace {

// The items of a "leases" member into `leases`.
Status ReadLeases(od::value& value, std::string_view name, std::vector<Lease>& leases) {
  return ForEachItem(value, name, [&](od::value& item) {
    auto object = json::GetObject(item, "leases");
    if (!object) return object.error();
    Lease& lease = leases.emplace_back();
    lease.record.state = State::kRunning;
    return json::ForEachField(*object, [&](std::string_view member, od::value& v) {
      bool handled = false;
      Status s = ReadCommandMember(member, v, lease.record.command, handled);
      if (handled) return s;
      if (member == "lease") return ReadString(v, member, lease.token);
      if (member == "attempt") return ReadUint32(v, member, lease.record.attempt);
      if (member == "deadline") {
        s = ReadTime(v, member, lease.deadline_us);
        lease.record.lease_expires_us = lease.deadline_us;
        return s;
      }
      return json::Skip(v);
    });
  });
}

// The items of a "results" member of POST /v1/completions: OK or the item's error.
Status ReadOutcomeResults(od::value& value, std::string_view name, std::vector<Status>& results) {
  return ForEachItem(value, name, [&](od::value& item) {
    auto error = ReadResultItem(item, [](std::string_view, od::value& v) { return json::Skip(v); });
    if (!error) return error.error();
    results.push_back(std::move(*error));
    return Status::Ok();
  });
}

}  // namespace

Result<std::vector<Lease>> ParseLeasesJson(std::string_view body) {
  std::vector<Lease> leases;
  Status status = ReadRootObject(body, [&](std::string_view name, od::value& value) {
    return name == "leases" ? ReadLeases(value, name, leases) : json::Skip(value);
  });
  if (!status.ok()) return Error(status);
  return leases;
}

Result<CompletionsAndLeases> ParseCompletionsAndLeasesJson(std::string_view body) {
  CompletionsAndLeases out;
  Status status = ReadRootObject(body, [&](std::string_view name, od::value& value) {
    if (name == "results") return ReadOutcomeResults(value, name, out.results);
    if (name == "leases") return ReadLeases(value, name, out.leases);
    if (name == "lease_error") {
      auto error = ReadErrorObject(value);
      if (!error) return error.error();
      out.lease_error = std::move(*error);
      return Status::Ok();
    }
    return json::Skip(value);
  });
  if (!status.ok()) return Error(status);
  return out;
}

Result<CommandId> ParseSubmitResultJson(std::string_view body) {
  CommandId id;
  Status status = ReadRootObject(body, [&](std::string_view name, od::value& value) {
    return name == "id" ? ReadId(value, id) : json::Skip(value);
  });
  if (!status.ok()) return Error(status);
  if (!id.valid()) return Error(Status::Corruption("the server's answer has no id"));
  return id;
}

Result<std::vector<Result<CommandId>>> ParseBatchResultsJson(std::string_view body) {
  std::vector<Result<CommandId>> results;
  Status status = ReadResults(body, [&](od::value& item) {
    CommandId id;
    auto error = ReadResultItem(item, [&](std::string_view name, od::value& v) {
      return name == "id" ? ReadId(v, id) : json::Skip(v);
    });
    if (!error) return error.error();
    if (error->ok()) {
      results.emplace_back(id);
    } else {
      results.emplace_back(std::unexpected(std::move(*error)));
    }
    return Status::Ok();
  });
  if (!status.ok()) return Error(status);
  return results;
}

Result<std::vector<Result<Record>>> ParseBatchRecordsJson(std::string_view body) {
  std::vector<Result<Record>> results;
  Status status = ReadResults(body, [&](od::value& item) {
    Record record;
    auto error = ReadResultItem(item, [&](std::string_view name, od::value& v) {
      return ReadRecordMember(name, v, record);
    });
    if (!error) return error.error();
    if (error->ok()) {
      results.emplace_back(std::move(record));
    } else {
      results.emplace_back(std::unexpected(std::move(*error)));
    }
    return Status::Ok();
  });
  if (!status.ok()) return Error(status);
  return results;
}

Result<std::vector<Status>> ParseOutcomeResultsJson(std::string_view body) {
  std::vector<Status> results;
  Status status = ReadRootObject(body, [&](std::string_view name, od::value& value) {
    return name == "results" ? ReadOutcomeResults(value, name, results) : json::Skip(value);
  });
  if (!status.ok()) return Error(status);
  return results;
}

Status ParseErrorJson(std::string_view body, int http_status) {
  std::optional<Status> parsed;
  Status status = ReadRootObject(body, [&](std::string_view name, od::value& value) {
    if (name != "error") return json::Skip(value);
    auto error = ReadErrorObject(value);
    if (!error) return error.error();
    parsed = std::move(*error);
    return Status::Ok();
  });
  if (status.ok() && parsed && !parsed->ok()) {
    if (parsed->code() != StatusCode::kInternal || http_status == 500) return *parsed;
    // An unknown code name: the HTTP status says more than kInternal would.
    return Status(StatusCodeForHttp(http_status),
                  fmt::format("HTTP {} {}", http_status, parsed->message()), parsed->field());
  }
  constexpr size_t kShown = 200;
  return Status(StatusCodeForHttp(http_status),
                fmt::format("HTTP {}: {}", http_status, body.substr(0, kShown)),
                http_status == 413 ? "body" : "");
}

Result<StatusCode> ParseStatusCode(std::string_view name) {
  // Every code StatusCodeName knows, so that codes added to status.h are read too.
  if (name == "UNKNOWN") return Error(Status::InvalidArgument("code", "unknown status code"));
  for (int code = 0; code <= UINT8_MAX; ++code) {
    if (StatusCodeName(static_cast<StatusCode>(code)) == name) return static_cast<StatusCode>(code);
  }
  return Error(Status::InvalidArgument("code", fmt::format("unknown status code {}", name)));
}

StatusCode StatusCodeForHttp(int http_status) {
  if (http_status >= 200 && http_status < 300) return StatusCode::kOk;
  switch (http_status) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 404:
      return StatusCode::kNotFound;
    case 408:
    case 504:
      return StatusCode::kDeadlineExceeded;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 405:
    case 409:
      return StatusCode::kFailedPrecondition;
    case 413:
    case 429:
      return StatusCode::kResourceExhausted;
    case 502:
    case 503:
      return StatusCode::kUnavailable;
    default:
      return http_status >= 400 && http_status < 500 ? StatusCode::kInvalidArgument
                                                     : StatusCode::kInternal;
  }
}

}  // namespace cmdq::protocol
