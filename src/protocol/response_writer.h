// Writing the API's other responses (docs/api.md): errors and their HTTP status, the
// result of a submit or a batch, and leases for workers. Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "cmdq/command_id.h"
#include "cmdq/record.h"
#include "cmdq/status.h"
#include "protocol/json_writer.h"

namespace cmdq::protocol {

// The HTTP status of a failure: 400 invalid argument, 401 unauthenticated, 403 permission
// denied, 404 not found, 409 already exists or failed precondition, 413 resource exhausted
// with a field (a size limit on that field), 429 resource exhausted without one (rate
// limit, full queue), 503 unavailable or cancelled (shutting down), 504 deadline exceeded,
// 500 otherwise. OK is 200.
int HttpStatus(const Status& status);

// {"error":{"code":"INVALID_ARGUMENT","message":"...","field":"type"}}; "field" only
// when the status names one.
void WriteError(const Status& status, JsonWriter& w);
std::string ErrorJson(const Status& status);

// {"id":"<id>"}: the answer to a single submit that does not wait.
std::string SubmitResultJson(CommandId id);

// {"results":[{"id":"<id>"} | {"error":{...}}, ...]}, in the batch's order.
std::string BatchResultsJson(std::span<const Result<CommandId>> results);

// A command leased to a remote worker, as POST /v1/leases returns it.
struct Lease {
  std::string token;    // names the lease in heartbeat; opaque to the worker
  Record record;        // the command, its attempt number (this run's)
  int64_t deadline_us;  // unix µs when the lease expires unless heartbeated
};

// The same, as the server has it: the command is the Bus's (not copied per lease), and
// `timeout_ms` is this attempt's own (the command's, or its type's default).
struct LeaseView {
  std::string_view token;
  const Command* command;
  uint32_t timeout_ms;
  uint32_t attempt;
  int64_t deadline_us;
};

// {"leases":[{"lease","id","type","key","payload"|"payload_b64","headers","timeout_ms",
//   "attempt","deadline"}...]}; an empty array when nothing was leased.
std::string LeasesJson(std::span<const LeaseView> leases);
std::string LeasesJson(std::span<const Lease> leases);
// POST /v1/completions with a lease: {"results": [...], "leases": [...]}, and
// "lease_error": {"code", "message", "field"} when the lease failed (the outcomes stand).
std::string CompletionsAndLeasesJson(std::span<const Result<CommandId>> results,
                                     std::span<const LeaseView> leases, const Status& lease_error);

}  // namespace cmdq::protocol
