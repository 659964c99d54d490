// Status and Result<T>: how every cmdq module reports failure.
//
// Errors are values: a function that can fail returns a Status (no value) or a
// Result<T> (std::expected<T, Status>). No exception crosses a module boundary.
// A Status names what went wrong (code), says it for a human (message) and, for bad
// input, names the offending field (field), so that the HTTP layer can echo it.
// Status is a plain value type; it is safe to copy between threads.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace cmdq {

// Persisted and shown on the wire: numbers are never reused.
enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument = 1,     // bad input; `field` names it. Permanent for a handler.
  kNotFound = 2,            // no such command, type, archive...
  kAlreadyExists = 3,       // e.g. an id that is taken
  kFailedPrecondition = 4,  // the command's state forbids it. Permanent for a handler.
  kResourceExhausted = 5,   // a bounded queue is full, a rate limit hit, a disk full
  kDeadlineExceeded = 6,    // a timeout elapsed
  kCancelled = 7,           // the work was cancelled or the bus stopped
  kUnavailable = 8,         // shutting down, or a backend is unreachable; retry later
  kCorruption = 9,          // stored or received bytes do not decode
  kIoError = 10,            // the operating system refused a read or write
  kInternal = 11,           // a bug: an invariant was broken
  kUnauthenticated = 12,    // no credentials, or ones nobody issued (HTTP 401)
  kPermissionDenied = 13,   // known credentials that do not allow this (HTTP 403)
};

std::string_view StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string field, std::string message) {
    return {StatusCode::kInvalidArgument, std::move(message), std::move(field)};
  }
  static Status NotFound(std::string message) {
    return {StatusCode::kNotFound, std::move(message)};
  }
  static Status FailedPrecondition(std::string message) {
    return {StatusCode::kFailedPrecondition, std::move(message)};
  }
  static Status ResourceExhausted(std::string message) {
    return {StatusCode::kResourceExhausted, std::move(message)};
  }
  static Status DeadlineExceeded(std::string message) {
    return {StatusCode::kDeadlineExceeded, std::move(message)};
  }
  static Status Unavailable(std::string message) {
    return {StatusCode::kUnavailable, std::move(message)};
  }
  static Status Corruption(std::string message) {
    return {StatusCode::kCorruption, std::move(message)};
  }
  static Status Internal(std::string message) {
    return {StatusCode::kInternal, std::move(message)};
  }
  static Status Unauthenticated(std::string message) {
    return {StatusCode::kUnauthenticated, std::move(message)};
  }
  static Status PermissionDenied(std::string message) {
    return {StatusCode::kPermissionDenied, std::move(message)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }

  // "INVALID_ARGUMENT: payload: 2000000 bytes is over the maximum of 1048576 (field payload)".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

template <typename T>
using Result = std::expected<T, Status>;

// `return Error(Status::NotFound("..."));` from a function returning Result<T>.
inline std::unexpected<Status> Error(Status status) { return std::unexpected(std::move(status)); }

}  // namespace cmdq
