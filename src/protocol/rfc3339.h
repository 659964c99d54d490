// RFC 3339 timestamps: how the API shows every time ("created_at", "not_before", ...).
//
// Written as UTC with exactly six fractional digits, "2025-01-02T03:04:05.123456Z": fixed
// width, so text order is time order, and microseconds are what the engine keeps.
// Read: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)", 'T' and 'Z' in either case,
// 1 to 9 fractional digits (beyond microseconds truncated), years 1970..9999, no leap
// second (":60"). Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::protocol {

inline constexpr size_t kRfc3339Size = 27;  // "2025-01-02T03:04:05.123456Z"

// `unix_us` must be in 1970..9999 (a negative time is written as the epoch).
void AppendRfc3339(int64_t unix_us, std::string& out);
std::string FormatRfc3339(int64_t unix_us);

// Microseconds since the Unix epoch; kInvalidArgument naming `field` otherwise.
Result<int64_t> ParseRfc3339(std::string_view text, std::string_view field);

}  // namespace cmdq::protocol
