#include "protocol/base64.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>

namespace cmdq::protocol {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kBad = 0xFF;

constexpr std::array<uint8_t, 256> MakeDecodeTable() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kBad;
  for (uint8_t i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = i;
  return table;
}
constexpr std::array<uint8_t, 256> kDecode = MakeDecodeTable();

uint8_t Sextet(char c) { return kDecode[static_cast<uint8_t>(c)]; }

Status BadBase64(std::string_view field, std::string_view why, size_t position) {
  return Status::InvalidArgument(
      std::string(field),
      fmt::format("{} is not valid base64: {} at character {}", field, why, position));
}

}  // namespace

void AppendBase64(std::string_view bytes, std::string& out) {
  const size_t start = out.size();
  out.resize(start + Base64EncodedSize(bytes.size()));
  char* dst = out.data() + start;
  const auto* src = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{src[i]} << 16) | (uint32_t{src[i + 1]} << 8) | src[i + 2];
    *dst++ = kAlphabet[(v >> 18) & 63];
    *dst++ = kAlphabet[(v >> 12) & 63];
    *dst++ = kAlphabet[(v >> 6) & 63];
    *dst++ = kAlphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest == 0) return;
  const uint32_t v = (uint32_t{src[i]} << 16) | (rest == 2 ? uint32_t{src[i + 1]} << 8 : 0);
  *dst++ = kAlphabet[(v >> 18) & 63];
  *dst++ = kAlphabet[(v >> 12) & 63];
  *dst++ = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
  *dst = '=';
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  AppendBase64(bytes, out);
  return out;
}

Result<std::string> Base64Decode(std::string_view text, std::string_view field) {
  // Padding, if present, must complete the last quantum: "QQ==" or "QUI=".
  size_t data_len = text.size();
  if (data_len % 4 == 0 && data_len > 0 && text[data_len - 1] == '=') {
    --data_len;
    if (text[data_len - 1] == '=') --data_len;
  }
  if (data_len % 4 == 1) return Error(BadBase64(field, "the length is impossible", data_len));
  if (data_len < text.size() && (data_len + 3) / 4 * 4 != text.size()) {
    return Error(BadBase64(field, "wrong padding", data_len));
  }
  std::string out;
  out.resize(data_len / 4 * 3 + (data_len % 4 == 0 ? 0 : data_len % 4 - 1));
  char* dst = out.data();
  size_t i = 0;
  for (; i + 4 <= data_len; i += 4) {
    const uint8_t a = Sextet(text[i]), b = Sextet(text[i + 1]), c = Sextet(text[i + 2]),
                  d = Sextet(text[i + 3]);
    if ((a | b | c | d) == kBad) {
      for (size_t j = i; j < i + 4; ++j) {
        if (Sextet(text[j]) == kBad) return Error(BadBase64(field, "a bad character", j));
      }
    }
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
    *dst++ = static_cast<char>(v >> 16);
    *dst++ = static_cast<char>(v >> 8);
    *dst++ = static_cast<char>(v);
  }
  const size_t rest = data_len - i;
  if (rest == 0) return out;
  uint32_t v = 0;
  for (size_t j = 0; j < rest; ++j) {
    const uint8_t s = Sextet(text[i + j]);
    if (s == kBad) return Error(BadBase64(field, "a bad character", i + j));
    v |= uint32_t{s} << (18 - 6 * j);
  }
  // The bits below the last whole byte must be zero, or two texts would decode alike.
  const uint32_t stray = rest == 2 ? (v & 0xFFFF) : (v & 0xFF);
  if (stray != 0) return Error(BadBase64(field, "non-zero trailing bits", data_len - 1));
  *dst++ = static_cast<char>(v >> 16);
  if (rest == 3) *dst = static_cast<char>(v >> 8);
  return out;
}

}  // namespace cmdq::protocol
