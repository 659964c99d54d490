#include "server_connection.h"

#include <fmt/format.h>

namespace cmdq::app {

void AddConnectionFlags(CLI::App& cmd, ServerConnection& connection) {
  cmd.add_option("--target", connection.target, "The server: http://host:port")
      ->envname("CMDQ_TARGET")
      ->capture_default_str();
  cmd.add_option("--token", connection.token, "Bearer token, when the server wants one")
      ->envname("CMDQ_TOKEN");
}

ClientOptions ClientOptionsFor(const ServerConnection& connection) {
  ClientOptions options;
  options.target = connection.target;
  options.token = connection.token;
  return options;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return kExitRefused;
    case StatusCode::kResourceExhausted:
      // A size limit names its field and is the request's fault; without one it is load.
      return status.field().empty() ? kExitUnavailable : kExitRefused;
    case StatusCode::kDeadlineExceeded:
      return kExitTimeout;
    case StatusCode::kCancelled:
    case StatusCode::kUnavailable:
    case StatusCode::kIoError:
      return kExitUnavailable;
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return kExitFailed;
  }
  return kExitFailed;
}

int ReportFailure(std::string_view what, const Status& status) {
  fmt::print(stderr, "cmdq {}: {}\n", what, status.ToString());
  return ExitCodeFor(status);
}

int ReportUsage(std::string_view what, const Status& status) {
  fmt::print(stderr, "cmdq {}: {}\n", what, status.message());
  return kExitUsage;
}

}  // namespace cmdq::app
