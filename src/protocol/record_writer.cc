#include "protocol/record_writer.h"

#include "protocol/json_reader.h"

namespace cmdq::protocol {
namespace {

// A string that is null when empty: optional text in the data model is "" when absent.
void OptionalString(std::string_view text, JsonWriter& w) {
  if (text.empty()) {
    w.Null();
  } else {
    w.String(text);
  }
}

void StateOrNull(State state, JsonWriter& w) {
  if (state == State::kNone) {
    w.Null();
  } else {
    w.String(StateName(state));
  }
}

void WriteResultMember(const std::string& result, JsonWriter& w) {
  if (result.empty()) {
    w.Key("result").Null();
  } else if (json::IsJsonText(result)) {
    w.Key("result").Raw(result);
  } else {
    w.Key("result_b64").Base64(result);
  }
}

}  // namespace

void WritePayloadMember(const Command& command, JsonWriter& w) {
  // Re-checked rather than trusted: a C++ caller may set payload_is_json on any bytes,
  // and one bad payload must not break every page that lists it.
  if (command.payload_is_json && json::IsJsonText(command.payload)) {
    w.Key("payload").Raw(command.payload);
  } else {
    w.Key("payload_b64").Base64(command.payload);
  }
}

void WriteHeadersMember(const Command& command, JsonWriter& w) {
  w.Key("headers").BeginObject();
  for (const auto& [name, value] : command.headers) w.Key(name).String(value);
  w.EndObject();
}

void WriteRecord(const Record& record, JsonWriter& w) {
  const Command& c = record.command;
  w.BeginObject();
  w.Key("id").String(c.id.ToString());
  w.Key("type").String(c.type);
  w.Key("key").String(c.key);
  WritePayloadMember(c, w);
  w.Key("idempotency_key");
  OptionalString(c.idempotency_key, w);
  WriteHeadersMember(c, w);
  w.Key("not_before").Time(c.not_before_us);
  w.Key("max_attempts").Uint(c.max_attempts);
  w.Key("timeout_ms").Uint(c.timeout_ms);
  w.Key("state").String(StateName(record.state));
  w.Key("attempt").Uint(record.attempt);
  w.Key("worker");
  OptionalString(record.lease_worker, w);
  w.Key("lease_expires_at").Time(record.lease_expires_us);
  WriteResultMember(record.result, w);
  w.Key("error");
  OptionalString(record.error, w);
  w.Key("next_attempt_at").Time(record.next_attempt_us);
  w.Key("created_at").Time(c.created_at_us);
  w.Key("updated_at").Time(record.updated_at_us);
  w.EndObject();
}

std::string RecordJson(const Record& record) {
  JsonWriter w(512 + record.command.payload.size() * 4 / 3 + record.result.size() * 4 / 3);
  WriteRecord(record, w);
  return w.Release();
}

std::string ListPageJson(const ListPage& page) {
  size_t reserve = 64;
  for (const Record& r : page.records) {
    reserve += 512 + r.command.payload.size() * 4 / 3 + r.result.size() * 4 / 3;
  }
  JsonWriter w(reserve);
  w.BeginObject().Key("records").BeginArray();
  for (const Record& r : page.records) WriteRecord(r, w);
  w.EndArray().Key("next_cursor");
  if (page.next_cursor.valid()) {
    w.String(page.next_cursor.ToString());
  } else {
    w.Null();
  }
  w.EndObject();
  return w.Release();
}

std::string AuditJson(std::span<const AuditEvent> events) {
  JsonWriter w(64 + events.size() * 192);
  w.BeginObject().Key("events").BeginArray();
  for (const AuditEvent& e : events) {
    w.BeginObject();
    w.Key("seq").Uint(e.sequence);
    w.Key("time").Time(e.time_us);
    w.Key("from");
    StateOrNull(e.from, w);
    w.Key("to");
    StateOrNull(e.to, w);
    w.Key("attempt").Uint(e.attempt);
    w.Key("worker");
    OptionalString(e.worker, w);
    w.Key("message");
    OptionalString(e.message, w);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Release();
}

}  // namespace cmdq::protocol
