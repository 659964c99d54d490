// Base64 of RFC 4648 §4 (standard alphabet "A-Za-z0-9+/"): how the API carries payloads
// and results that are not JSON ("payload_b64", "result_b64").
//
// Encoding always pads with '='. Decoding accepts padded and unpadded text (clients in
// some languages drop the padding), but nothing else: no whitespace, no URL-safe
// alphabet, no padding in the middle, and no stray bits in the last character, so that
// each byte string has exactly one accepted text per padding style. Thread-safe: pure.
#pragma once

#include <string>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::protocol {

// Bytes an encoding of `n` bytes takes (with padding).
constexpr size_t Base64EncodedSize(size_t n) { return (n + 2) / 3 * 4; }
// An upper bound of the bytes `text_size` characters of base64 decode to.
constexpr size_t Base64DecodedBound(size_t text_size) { return (text_size + 3) / 4 * 3; }

void AppendBase64(std::string_view bytes, std::string& out);
std::string Base64Encode(std::string_view bytes);

// kInvalidArgument naming `field` for text that is not base64 as described above.
Result<std::string> Base64Decode(std::string_view text, std::string_view field);

}  // namespace cmdq::protocol
