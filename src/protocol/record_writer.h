// Writing records, pages of records and audit trails as the API's JSON (docs/api.md,
// "Record"). Thread-safe: pure functions (each thread validates with its own parser).
//
// Bytes are shown as JSON when they are JSON and as base64 otherwise:
//  - the payload as "payload" (its JSON text, as sent) when it came as JSON and still
//    parses as one JSON value, else as "payload_b64";
//  - the result as "result" when it is one valid JSON value (e.g. cmdq.echo of a JSON
//    payload), else as "result_b64"; an empty result is "result": null.
// Times are RFC 3339 strings; unset times and empty optional strings are null.
#pragma once

#include <span>
#include <string>

#include "cmdq/command.h"
#include "cmdq/record.h"
#include "cmdq/store.h"
#include "protocol/json_writer.h"

namespace cmdq::protocol {

void WriteRecord(const Record& record, JsonWriter& w);
std::string RecordJson(const Record& record);

// {"records":[...],"next_cursor":"<id>"|null}
std::string ListPageJson(const ListPage& page);

// {"events":[{"seq","time","from","to","attempt","worker","message"}...]}
std::string AuditJson(std::span<const AuditEvent> events);

// The "payload" or "payload_b64" member of a command (records and leases share it).
void WritePayloadMember(const Command& command, JsonWriter& w);
// The "headers" member: an object of strings.
void WriteHeadersMember(const Command& command, JsonWriter& w);

}  // namespace cmdq::protocol
