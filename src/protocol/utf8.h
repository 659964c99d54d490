// UTF-8 checks for what the API reads and writes. Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace cmdq::protocol {

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above
// U+10FFFF). SIMD-fast (simdjson::validate_utf8): cheap enough to run on every string
// a response writes.
bool IsValidUtf8(std::string_view text);

// Appends `text` with every ill-formed sequence replaced by U+FFFD, one per maximal
// invalid subpart (Unicode §3.9): how a response shows bytes that a C++ caller stored
// and that are not text, e.g. in an error message.
void AppendSanitizedUtf8(std::string_view text, std::string& out);

}  // namespace cmdq::protocol
