#include "protocol/utf8.h"

#include <simdjson.h>

#include <cstdint>

namespace cmdq::protocol {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the well-formed sequence at `s[i]`, or 0 with `*bad` set to the bytes the
// replacement stands for (the maximal subpart that could have begun a sequence).
size_t SequenceLength(std::string_view s, size_t i, size_t* bad) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t lead = b(i);
  size_t need = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // bounds of the second byte (Unicode table 3-7)
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    *bad = 1;
    return 0;
  }
  size_t k = 1;
  for (; k <= need && i + k < s.size(); ++k) {
    const uint8_t c = b(i + k);
    const bool ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
    if (!ok) break;
  }
  if (k == need + 1) return k;
  *bad = k;
  return 0;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

void AppendSanitizedUtf8(std::string_view text, std::string& out) {
  if (IsValidUtf8(text)) {
    out.append(text);
    return;
  }
  size_t i = 0;
  while (i < text.size()) {
    size_t bad = 0;
    const size_t n = SequenceLength(text, i, &bad);
    if (n > 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out.append(kReplacement);
      i += bad;
    }
  }
}

}  // namespace cmdq::protocol
