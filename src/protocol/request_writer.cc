#include "protocol/request_writer.h"

#include <cctype>

#include "protocol/json_reader.h"
#include "protocol/query_parser.h"
#include "protocol/record_writer.h"

namespace cmdq::protocol {
namespace {

// The JSON text of `bytes` without surrounding whitespace when they are one JSON value
// (a program's stdout usually ends in a newline); empty otherwise.
std::string_view TrimmedJson(std::string_view bytes) {
  if (!json::IsJsonText(bytes)) return {};
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  const size_t last = bytes.find_last_not_of(" \t\r\n");
  return bytes.substr(first, last - first + 1);
}

// The members of an outcome, inside an object the caller opened.
void WriteOutcomeMembers(const WorkerOutcome& outcome, bool with_id, JsonWriter& w) {
  if (with_id) w.Key("id").String(outcome.id.ToString());
  w.Key("lease").String(outcome.lease);
  if (!outcome.succeeded) {
    w.Key("error").String(outcome.error);
    w.Key("retryable").Bool(outcome.retryable);
    return;
  }
  if (outcome.result.empty()) return;  // an empty result: neither member
  if (std::string_view json = TrimmedJson(outcome.result); !json.empty()) {
    w.Key("result").Raw(json);
  } else {
    w.Key("result_b64").Base64(outcome.result);
  }
}

// RFC 3986's unreserved characters stay; every other byte is %XX.
void AppendQueryParam(std::string_view name, std::string_view value, std::string& out) {
  constexpr char kHex[] = "0123456789ABCDEF";
  if (!out.empty()) out += '&';
  out.append(name).append("=");
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

}  // namespace

std::string ListQueryString(const ListQuery& query) {
  std::string out;
  if (query.key) AppendQueryParam("key", *query.key, out);
  if (query.state) AppendQueryParam("state", StateName(*query.state), out);
  if (query.type) AppendQueryParam("type", *query.type, out);
  if (query.before.valid()) AppendQueryParam("cursor", query.before.ToString(), out);
  if (query.limit != kDefaultListLimit) AppendQueryParam("limit", std::to_string(query.limit), out);
  return out;
}

void WriteSubmit(const Command& c, JsonWriter& w) {
  w.BeginObject();
  w.Key("type").String(c.type);
  w.Key("key").String(c.key);
  if (!c.payload.empty()) WritePayloadMember(c, w);
  if (!c.idempotency_key.empty()) w.Key("idempotency_key").String(c.idempotency_key);
  if (!c.headers.empty()) WriteHeadersMember(c, w);
  if (c.not_before_us != 0) w.Key("not_before").Time(c.not_before_us);
  if (c.max_attempts != 0) w.Key("max_attempts").Uint(c.max_attempts);
  if (c.timeout_ms != 0) w.Key("timeout_ms").Uint(c.timeout_ms);
  w.EndObject();
}

std::string SubmitJson(const Command& command) {
  JsonWriter w(128 + command.payload.size() * 4 / 3);
  WriteSubmit(command, w);
  return w.Release();
}

std::string SubmitBatchJson(std::span<const Command> commands) {
  size_t reserve = 2;
  for (const Command& c : commands) reserve += 128 + c.payload.size() * 4 / 3;
  JsonWriter w(reserve);
  w.BeginArray();
  for (const Command& c : commands) WriteSubmit(c, w);
  w.EndArray();
  return w.Release();
}

namespace {

void WriteLeaseRequest(const LeaseRequest& request, JsonWriter& w) {
  w.BeginObject().Key("types").BeginArray();
  for (const std::string& type : request.types) w.String(type);
  w.EndArray();
  w.Key("max").Uint(request.max);
  w.Key("wait_ms").Uint(request.wait_ms);
  w.Key("worker").String(request.worker);
  if (request.lease_ms != 0) w.Key("lease_ms").Uint(request.lease_ms);
  w.EndObject();
}

size_t OutcomesBytes(std::span<const WorkerOutcome> outcomes) {
  size_t bytes = 2;
  for (const WorkerOutcome& o : outcomes) bytes += 96 + o.result.size() * 4 / 3 + o.error.size();
  return bytes;
}

void WriteOutcomes(std::span<const WorkerOutcome> outcomes, JsonWriter& w) {
  w.BeginArray();
  for (const WorkerOutcome& outcome : outcomes) {
    w.BeginObject();
    WriteOutcomeMembers(outcome, /*with_id=*/true, w);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string LeaseRequestJson(const LeaseRequest& request) {
  JsonWriter w(96);
  WriteLeaseRequest(request, w);
  return w.Release();
}

std::string HeartbeatJson(uint32_t lease_ms) {
  JsonWriter w(24);
  w.BeginObject();
  if (lease_ms != 0) w.Key("lease_ms").Uint(lease_ms);
  w.EndObject();
  return w.Release();
}

std::string OutcomeJson(const WorkerOutcome& outcome) {
  JsonWriter w(64 + outcome.result.size() * 4 / 3 + outcome.error.size());
  w.BeginObject();
  WriteOutcomeMembers(outcome, /*with_id=*/false, w);
  w.EndObject();
  return w.Release();
}

std::string OutcomesJson(std::span<const WorkerOutcome> outcomes) {
  JsonWriter w(OutcomesBytes(outcomes));
  WriteOutcomes(outcomes, w);
  return w.Release();
}

std::string OutcomesAndLeaseJson(std::span<const WorkerOutcome> outcomes,
                                 const LeaseRequest& lease) {
  JsonWriter w(OutcomesBytes(outcomes) + 128);
  w.BeginObject().Key("outcomes");
  WriteOutcomes(outcomes, w);
  w.Key("lease");
  WriteLeaseRequest(lease, w);
  w.EndObject();
  return w.Release();
}

}  // namespace cmdq::protocol
