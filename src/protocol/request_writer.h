// Writing the bodies a client sends (docs/api.md): submits, and the worker protocol's
// lease, heartbeat, complete, fail and completion batches. The mirror of submit_parser.h
// and worker_parser.h, so that what the client writes is what the server reads.
//
// Bytes go as JSON when they are one JSON value and as base64 otherwise, like the
// server's own responses: a payload as "payload" when the Command says it is JSON (and it
// parses), a result as "result" when it parses as JSON. Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "cmdq/command.h"
#include "cmdq/command_id.h"
#include "cmdq/store.h"
#include "cmdq/worker_outcome.h"
#include "protocol/json_writer.h"
#include "protocol/worker_parser.h"

namespace cmdq::protocol {

// One command object of POST /v1/commands: every field the Command sets (empty or zero
// fields are left out, which the server reads as "not given"). `id` and `created_at_us`
// are the server's and never written.
void WriteSubmit(const Command& command, JsonWriter& w);
std::string SubmitJson(const Command& command);
// A batch: a JSON array of command objects.
std::string SubmitBatchJson(std::span<const Command> commands);

// The query string of GET /v1/commands for `query` (without the '?'): the parameters that
// are set, percent-encoded; ParseListQuery reads it back. The default limit is left out.
std::string ListQueryString(const ListQuery& query);

// POST /v1/leases.
std::string LeaseRequestJson(const LeaseRequest& request);
// POST /v1/leases/{lease}/heartbeat: {"lease_ms":N}, or {} for 0 (the lease's own length).
std::string HeartbeatJson(uint32_t lease_ms);

// The body of POST /v1/commands/{id}/complete or /fail (by outcome.succeeded), with its
// "lease". The id travels in the path.
std::string OutcomeJson(const WorkerOutcome& outcome);
// POST /v1/completions: [{"id","lease","result"|"result_b64"} | {"id","lease","error",
// "retryable"}...].
std::string OutcomesJson(std::span<const WorkerOutcome> outcomes);
// POST /v1/completions, the object form: report `outcomes` (may be empty), then lease.
std::string OutcomesAndLeaseJson(std::span<const WorkerOutcome> outcomes,
                                 const LeaseRequest& lease);

}  // namespace cmdq::protocol
