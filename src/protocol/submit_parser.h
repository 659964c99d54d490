// Parsing the bodies of POST /v1/commands (docs/api.md, "Submit"): one JSON object for a
// command, or a JSON array of them for a batch, into cmdq::Command values.
//
// The parser checks the wire format: JSON syntax, field names and types, number ranges,
// base64, RFC 3339 times, and the sizes below. It does not know which command types
// exist or the engine's own limits (key length...): the Bus checks those, with the same
// field names. Every error is a Status whose `field` names the problem ("body" when the
// body as a whole is wrong). Thread-safe: each thread parses with its own simdjson parser.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "cmdq/command.h"
#include "cmdq/status.h"

namespace cmdq::protocol {

struct SubmitLimits {
  // Largest payload in bytes: a JSON payload's text, or payload_b64's decoded bytes.
  // Larger is kResourceExhausted (HTTP 413), field "payload". Like
  // BusOptions::max_payload_bytes by default; raise both together.
  size_t max_payload_bytes = 1 << 20;
  // Most commands in one batch; more is kResourceExhausted (413), field "body". Bigger
  // batches amortize more per request but hold a worker thread and memory longer.
  size_t max_batch = 1000;
  // Most entries in "headers" (kInvalidArgument, field "headers"). The Bus allows 64.
  size_t max_headers = 64;
};

// One command from a JSON object. Its `id` and `created_at_us` are left empty for the Bus.
Result<Command> ParseSubmit(std::string_view body, const SubmitLimits& limits);

// A batch from a JSON array of command objects. The outer Result fails for the whole body
// (not JSON, not an array, empty, more than max_batch); otherwise each item has its own
// Result, in order, so one bad command does not refuse the others.
Result<std::vector<Result<Command>>> ParseSubmitBatch(std::string_view body,
                                                      const SubmitLimits& limits);

// True when the body's first non-whitespace byte is '[': a batch. The server picks the
// parser with it; either parser still checks the whole body.
bool IsBatchBody(std::string_view body);

}  // namespace cmdq::protocol
