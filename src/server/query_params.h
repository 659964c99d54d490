// The query parameters of the routes other than the list: only ?wait= is known
// (docs/api.md); anything else is refused by name, as unknown body fields are.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::server {

// No parameter: nullopt. "wait=DURATION" (500ms, 2s, 1m) up to `max_wait`; with
// `allow_wait` false any parameter is refused. kInvalidArgument naming the parameter
// ("wait" for a bad or too long duration).
Result<std::optional<std::chrono::milliseconds>> ParseWaitQuery(std::string_view query,
                                                                bool allow_wait,
                                                                std::chrono::milliseconds max_wait);

}  // namespace cmdq::server
