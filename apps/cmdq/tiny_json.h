// A minimal reader for the flat JSON objects the built-in command types take, such as
// {"ms": 5} or {"times": 2}. Not a JSON parser: it finds one integer member at the top
// level and nothing more. A proper JSON library (simdjson) replaces it with src/protocol.
#pragma once

#include <cstdint>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::app {

// The integer value of member `name` in the object `json`. An empty payload or a missing
// member yields `fallback`; a member whose value is not a non-negative integer, or a
// payload that is not an object, is kInvalidArgument naming the field.
Result<int64_t> JsonIntMember(std::string_view json, std::string_view name, int64_t fallback);

}  // namespace cmdq::app
