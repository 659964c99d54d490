// How the client subcommands show records, pages and audit trails to a person (the
// default; --json prints the API's JSON instead). Long payloads and results are cut, and
// bytes that are not text are shown by their size, so a table stays a table.
#pragma once

#include <span>
#include <string>

#include "cmdq/record.h"
#include "cmdq/store.h"

namespace cmdq::app {

// One "name: value" line per field, ending in a newline.
std::string RecordText(const Record& record);
// A header line and one line per record (id, state, attempt, type, key, updated), then
// the cursor of the next page when there is one.
std::string ListTable(const ListPage& page);
// A header line and one line per transition.
std::string AuditTable(std::span<const AuditEvent> events);

}  // namespace cmdq::app
