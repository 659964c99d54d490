#include "protocol/response_writer.h"

#include <vector>

#include "protocol/record_writer.h"

namespace cmdq::protocol {

int HttpStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      // A limit on a named field is the request's size; without one it is load.
      return status.field().empty() ? 429 : 413;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kCancelled:
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kCorruption:
    case StatusCode::kIoError:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

namespace {

// {"code", "message", "field"}: the inside of an error.
void WriteErrorObject(const Status& status, JsonWriter& w) {
  w.BeginObject();
  w.Key("code").String(StatusCodeName(status.code()));
  w.Key("message").String(status.message());
  if (!status.field().empty()) w.Key("field").String(status.field());
  w.EndObject();
}

}  // namespace

void WriteError(const Status& status, JsonWriter& w) {
  w.BeginObject().Key("error");
  WriteErrorObject(status, w);
  w.EndObject();
}

std::string ErrorJson(const Status& status) {
  JsonWriter w(96 + status.message().size() + status.field().size());
  WriteError(status, w);
  return w.Release();
}

std::string SubmitResultJson(CommandId id) {
  JsonWriter w(32);
  w.BeginObject().Key("id").String(id.ToString()).EndObject();
  return w.Release();
}

namespace {

void WriteResultsMember(std::span<const Result<CommandId>> results, JsonWriter& w) {
  w.Key("results").BeginArray();
  for (const auto& result : results) {
    if (result) {
      w.BeginObject().Key("id").String(result->ToString()).EndObject();
    } else {
      WriteError(result.error(), w);
    }
  }
  w.EndArray();
}

size_t LeasesBytes(std::span<const LeaseView> leases) {
  size_t bytes = 16;
  for (const LeaseView& l : leases) bytes += 256 + l.command->payload.size() * 4 / 3;
  return bytes;
}

void WriteLeasesMember(std::span<const LeaseView> leases, JsonWriter& w) {
  w.Key("leases").BeginArray();
  for (const LeaseView& lease : leases) {
    const Command& c = *lease.command;
    w.BeginObject();
    w.Key("lease").String(lease.token);
    w.Key("id").String(c.id.ToString());
    w.Key("type").String(c.type);
    w.Key("key").String(c.key);
    WritePayloadMember(c, w);
    WriteHeadersMember(c, w);
    w.Key("timeout_ms").Uint(lease.timeout_ms);
    w.Key("attempt").Uint(lease.attempt);
    w.Key("deadline").Time(lease.deadline_us);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string BatchResultsJson(std::span<const Result<CommandId>> results) {
  JsonWriter w(16 + results.size() * 32);
  w.BeginObject();
  WriteResultsMember(results, w);
  w.EndObject();
  return w.Release();
}

std::string LeasesJson(std::span<const LeaseView> leases) {
  JsonWriter w(LeasesBytes(leases));
  w.BeginObject();
  WriteLeasesMember(leases, w);
  w.EndObject();
  return w.Release();
}

std::string CompletionsAndLeasesJson(std::span<const Result<CommandId>> results,
                                     std::span<const LeaseView> leases, const Status& lease_error) {
  JsonWriter w(112 + results.size() * 32 + LeasesBytes(leases));
  w.BeginObject();
  WriteResultsMember(results, w);
  WriteLeasesMember(leases, w);
  if (!lease_error.ok()) {
    w.Key("lease_error");
    WriteErrorObject(lease_error, w);
  }
  w.EndObject();
  return w.Release();
}

std::string LeasesJson(std::span<const Lease> leases) {
  std::vector<LeaseView> views;
  views.reserve(leases.size());
  for (const Lease& l : leases) {
    views.push_back({.token = l.token,
                     .command = &l.record.command,
                     .timeout_ms = l.record.command.timeout_ms,
                     .attempt = l.record.attempt,
                     .deadline_us = l.deadline_us});
  }
  return LeasesJson(std::span<const LeaseView>(views));
}

}  // namespace cmdq::protocol
