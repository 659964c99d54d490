// Durations as the API spells them in a query string (?wait=500ms): an integer and a
// unit, "ms", "s" or "m" ("500ms", "2s", "1m"), nothing else (no sign, no space, no
// fraction). The client's ParseDuration (include/cmdq/client.h) reads the same spelling.
// Thread-safe: a pure function.
#pragma once

#include <chrono>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::protocol {

// kInvalidArgument naming `field` for any other text, or for more than a day.
Result<std::chrono::milliseconds> ParseDurationParam(std::string_view text, std::string_view field);

}  // namespace cmdq::protocol
