// Parsing the bodies of the worker protocol (docs/api.md, "Workers"): lease, heartbeat,
// complete and fail. Same rules as submit_parser.h: unknown fields are refused, null is
// "not given" for optional fields, and every error's `field` names the problem.
// Thread-safe: each thread parses with its own simdjson parser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cmdq/command_id.h"
#include "cmdq/status.h"

namespace cmdq::protocol {

struct LeaseLimits {
  // Most commands one lease request may ask for ("max"). Larger batches cut round trips
  // for fast handlers; a worker that dies holds them all until their leases expire.
  uint32_t max_commands = 1000;
  // Longest long-poll ("wait_ms"), so that a request cannot hold a connection for long.
  uint32_t max_wait_ms = 60'000;
  // Longest lease ("lease_ms"): a dead worker's commands wait at most this to run again.
  uint32_t max_lease_ms = 3'600'000;
  // Most types in one request ("types").
  size_t max_types = 64;
  // Longest worker name, in bytes.
  size_t max_worker_bytes = 128;
  // Largest result ("result" text or "result_b64" decoded): 413 above it.
  size_t max_result_bytes = 1 << 20;
  // Longest error message of a fail: 413 above it.
  size_t max_error_bytes = 64 << 10;
  // Most outcomes in one POST /v1/completions: 413 (field "body") above it. Like a submit
  // batch: more amortizes the request and the store write, but holds a thread longer.
  size_t max_completions = 1000;
};

// POST /v1/leases: {"types":[...],"max":N,"wait_ms":N,"worker":"id","lease_ms":N}.
struct LeaseRequest {
  std::vector<std::string> types;  // required, 1..max_types non-empty names
  uint32_t max = 1;                // 1..max_commands
  uint32_t wait_ms = 0;            // 0 = answer at once, even with no lease
  std::string worker;              // required: who holds the leases (audit, metrics)
  uint32_t lease_ms = 0;           // 0 = the server's default lease
};

// POST /v1/leases/{lease}/heartbeat: {"lease_ms":N}; an empty body keeps the duration.
struct HeartbeatRequest {
  uint32_t lease_ms = 0;  // 0 = extend by the lease's own duration
};

// POST /v1/commands/{id}/complete: {"lease":"...","result": JSON} or
// {"lease":"...","result_b64":"..."}, or only the lease for an empty result.
// The lease is required so that a worker whose lease expired (and whose command now runs
// elsewhere) cannot complete another worker's run: the server answers 404, field "lease".
struct CompleteRequest {
  std::string lease;  // required: the token the command was leased with
  std::string result;
  bool result_is_json = false;
};

// POST /v1/commands/{id}/fail: {"lease":"...","error":"...","retryable":bool}.
struct FailRequest {
  std::string lease;      // required, as for CompleteRequest
  std::string error;      // required (may be empty)
  bool retryable = true;  // false sends the command straight to dead
};

// One item of POST /v1/completions: {"id","lease","result"|"result_b64"} completes,
// {"id","lease","error","retryable"} fails.
struct CompletionItem {
  CommandId id;
  std::variant<CompleteRequest, FailRequest> outcome;
};

Result<LeaseRequest> ParseLeaseRequest(std::string_view body, const LeaseLimits& limits);
Result<HeartbeatRequest> ParseHeartbeat(std::string_view body, const LeaseLimits& limits);
Result<CompleteRequest> ParseComplete(std::string_view body, const LeaseLimits& limits);
Result<FailRequest> ParseFail(std::string_view body, const LeaseLimits& limits);

// POST /v1/completions: a JSON array of 1..max_completions items. The outer Result fails
// for the whole body (not JSON: 400 "body"; not an array or empty: 400 "body"; too long:
// 413 "body"); otherwise each item has its own Result, in order ("item" when an item is
// not an object), so one bad item does not refuse the others.
Result<std::vector<Result<CompletionItem>>> ParseCompletions(std::string_view body,
                                                             const LeaseLimits& limits);

// POST /v1/completions in either form: the array above, or an object
// {"outcomes": [...], "lease": {...}} that reports 0..max_completions outcomes and then
// leases more, like POST /v1/leases (one round trip per batch for a worker). The object
// needs outcomes, a lease, or both; an empty outcomes array only with a lease. Errors of
// the lease's members name "lease.<member>"; too many outcomes is 413 "outcomes".
struct CompletionsRequest {
  std::vector<Result<CompletionItem>> items;
  std::optional<LeaseRequest> lease;
};
Result<CompletionsRequest> ParseCompletionsRequest(std::string_view body,
                                                   const LeaseLimits& limits);

}  // namespace cmdq::protocol
