// Parsing what the API reads from a URL rather than a body: the query string of
// GET /v1/commands, and ids in paths (docs/api.md). Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "cmdq/command_id.h"
#include "cmdq/status.h"
#include "cmdq/store.h"

namespace cmdq::protocol {

inline constexpr uint32_t kDefaultListLimit = 100;
inline constexpr uint32_t kMaxListLimit = 1000;

// "key=u1&state=pending&type=email.send&cursor=<id>&limit=50" (without the '?'), each
// parameter optional, in any order, percent-encoded ('+' is a space). An empty value is
// the same as leaving the parameter out. Unknown or repeated parameters, a bad state
// name, a cursor that is not an id, a limit outside 1..1000, a bad %-escape or a value
// that is not UTF-8 are kInvalidArgument naming the parameter.
Result<ListQuery> ParseListQuery(std::string_view query);

// A command id from a path segment (/v1/commands/{id}); field "id".
Result<CommandId> ParseIdSegment(std::string_view segment);

// A lease token from a path segment (/v1/leases/{lease}/heartbeat); field "lease".
// Tokens are 1..128 bytes of [A-Za-z0-9._~-] (URL-safe as they are): the server mints
// them, so anything else was never one.
Result<std::string> ParseLeaseSegment(std::string_view segment);

// Decodes %XX escapes and '+'; kInvalidArgument naming `field` for a bad escape.
Result<std::string> PercentDecode(std::string_view text, std::string_view field);

}  // namespace cmdq::protocol
