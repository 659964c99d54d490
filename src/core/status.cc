#include "cmdq/status.h"

namespace cmdq {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case StatusCode::kCancelled:
      return "CANCELLED";
    case StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case StatusCode::kCorruption:
      return "CORRUPTION";
    case StatusCode::kIoError:
      return "IO_ERROR";
    case StatusCode::kInternal:
      return "INTERNAL";
    case StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    case StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
  }
  // A code read from bytes can hold any number; naming it must not crash.
  return "UNKNOWN";
}

std::string Status::ToString() const {
  std::string_view name = StatusCodeName(code_);
  std::string out;
  out.reserve(name.size() + message_.size() + field_.size() + 12);
  out.append(name);
  if (!message_.empty()) {
    out.append(": ").append(message_);
  }
  if (!field_.empty()) {
    out.append(" (field ").append(field_).append(")");
  }
  return out;
}

}  // namespace cmdq
