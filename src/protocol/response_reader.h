// Reading the server's responses (docs/api.md) back into values: records, pages, audit
// trails, leases, submit and batch results, and error bodies. The mirror of
// record_writer.h and response_writer.h, for the client (src/client).
//
// Lenient where the request parsers are strict: members this version does not know are
// skipped, so an older client keeps working against a newer server that adds fields. A
// body that is not the JSON expected is kCorruption ("the server's answer ..."): the
// server, not the caller, broke the contract. Thread-safe: each thread parses with its own
// simdjson parser.
#pragma once

#include <string_view>
#include <vector>

#include "cmdq/command_id.h"
#include "cmdq/record.h"
#include "cmdq/status.h"
#include "cmdq/store.h"
#include "protocol/response_writer.h"

namespace cmdq::protocol {

// GET /v1/commands/{id} (also the answer of a submit with ?wait=).
Result<Record> ParseRecordJson(std::string_view body);
// GET /v1/commands?...
Result<ListPage> ParseListPageJson(std::string_view body);
// GET /v1/commands/{id}/audit; each event gets `id`, which the body does not repeat.
Result<std::vector<AuditEvent>> ParseAuditJson(std::string_view body, CommandId id);
// POST /v1/leases.
Result<std::vector<Lease>> ParseLeasesJson(std::string_view body);
// A single submit: {"id":"<id>"}.
Result<CommandId> ParseSubmitResultJson(std::string_view body);
// A batch submit: {"results":[{"id"} | {"error"}...]}, one Result per item, in order.
Result<std::vector<Result<CommandId>>> ParseBatchResultsJson(std::string_view body);
// A batch submit with ?wait=: {"results":[record | {"error"}...]}.
Result<std::vector<Result<Record>>> ParseBatchRecordsJson(std::string_view body);
// POST /v1/completions: {"results":[{"id"} | {"error"}...]}: OK or the item's error.
Result<std::vector<Status>> ParseOutcomeResultsJson(std::string_view body);
// POST /v1/completions with a lease: the results, the leases, and the lease's error
// (OK when it leased, possibly nothing).
struct CompletionsAndLeases {
  std::vector<Status> results;
  std::vector<Lease> leases;
  Status lease_error;
};
Result<CompletionsAndLeases> ParseCompletionsAndLeasesJson(std::string_view body);

// The Status of an error answer: the code, message and field of {"error":{...}}. A body
// that is not one (a proxy's HTML page, an empty 502) or a code this version does not
// know gets the code that fits `http_status`, with the status and the body's start in
// the message.
Status ParseErrorJson(std::string_view body, int http_status);

// "NOT_FOUND" -> kNotFound...; kInvalidArgument for a name StatusCodeName never gives.
Result<StatusCode> ParseStatusCode(std::string_view name);
// The code that fits an HTTP status when the body does not say (the inverse of
// HttpStatus, which loses detail: 409 is kFailedPrecondition, 500 kInternal).
StatusCode StatusCodeForHttp(int http_status);

}  // namespace cmdq::protocol
