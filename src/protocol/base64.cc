#include "protocol/base64.h"

#include <fmt/format.h>
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>

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

// Encoding: the two characters of every 12-bit value, so a 3-byte group takes two
// lookups instead of four (8 KiB, stays in L1).
constexpr std::array<char, 2 * 4096> MakePairTable() {
  std::array<char, 2 * 4096> table{};
  for (size_t v = 0; v < 4096; ++v) {
    table[2 * v] = kAlphabet[v >> 6];
    table[2 * v + 1] = kAlphabet[v & 63];
  }
  return table;
}
constexpr std::array<char, 2 * 4096> kPairs = MakePairTable();

// Decoding: each character's sextet already shifted to its place in the 24-bit group,
// with bit 24 set for a character outside the alphabet: one OR joins a group of four
// and tells whether any of them was bad.
constexpr uint32_t kBadBit = 1u << 24;
constexpr std::array<uint32_t, 256> MakeShiftedTable(int shift) {
  std::array<uint32_t, 256> table{};
  for (size_t c = 0; c < 256; ++c) {
    const uint8_t s = kDecode[c];
    table[c] = s == kBad ? kBadBit : uint32_t{s} << shift;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kAt18 = MakeShiftedTable(18);
constexpr std::array<uint32_t, 256> kAt12 = MakeShiftedTable(12);
constexpr std::array<uint32_t, 256> kAt6 = MakeShiftedTable(6);
constexpr std::array<uint32_t, 256> kAt0 = MakeShiftedTable(0);

// Decoding 32 characters at a time with AVX2, where the CPU has it: a 1 KB payload's
// 1,368 characters took ~480 ns in the table loop, on both ends of every submit and lease.
// Each character's high and low nibble select bit sets (class_hi, bad_lo) whose overlap
// marks a character outside the alphabet; the high nibble (and '/') select what to add
// to turn it into its sextet. Two multiply-adds join four sextets into three bytes, and
// two shuffles pack 24 bytes at the front of the 32-byte store. A block with a bad
// character is left to the table loop, which names its position.
// Classes of high nibble: 2 → 0x01, 3 → 0x02, 4 and 6 → 0x04, 5 and 7 → 0x08, others
// 0x10. A low nibble's entry holds the classes it is NOT valid in.
__attribute__((target("avx2"))) size_t DecodeBlocksAvx2(const uint8_t* in, size_t len, char* dst,
                                                        size_t out_room) {
  const __m256i bad_lo =
      _mm256_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B,
                       0x1B, 0x1B, 0x1A, 0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                       0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
  const __m256i class_hi =
      _mm256_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10,
                       0x10, 0x10, 0x10, 0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10,
                       0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
  // Added per high nibble; index 1 is '/' (its nibble 2, minus one where the byte is '/').
  const __m256i shift = _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i slash = _mm256_set1_epi8('/');
  // a<<6 | b and c<<6 | d in 16 bits, then (ab)<<12 | cd in the low 24 bits of 32.
  const __m256i join_pairs = _mm256_set1_epi32(0x01400140);
  const __m256i join_quads = _mm256_set1_epi32(0x00011000);
  // Per 128-bit lane: each 32-bit group's three bytes, most significant first.
  const __m256i pack = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2,
                                        1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
  size_t i = 0;
  char* const start = dst;
  // Each store writes 32 bytes, of which 24 are kept.
  for (; i + 32 <= len && static_cast<size_t>(dst - start) + 32 <= out_room; i += 32, dst += 24) {
    const __m256i text = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(text, 4), nibble);
    const __m256i lo = _mm256_and_si256(text, nibble);
    const __m256i bad =
        _mm256_and_si256(_mm256_shuffle_epi8(bad_lo, lo), _mm256_shuffle_epi8(class_hi, hi));
    if (!_mm256_testz_si256(bad, bad)) break;
    const __m256i index = _mm256_add_epi8(hi, _mm256_cmpeq_epi8(text, slash));
    const __m256i sextets = _mm256_add_epi8(text, _mm256_shuffle_epi8(shift, index));
    const __m256i pairs = _mm256_maddubs_epi16(sextets, join_pairs);
    const __m256i quads = _mm256_madd_epi16(pairs, join_quads);
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(quads, pack), lanes);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), bytes);
  }
  return i;
}

// Encoding 24 bytes at a time with AVX2: each 128-bit lane takes 12 bytes, a shuffle
// puts each 3-byte group in a 32-bit slot as (b1, b0, b2, b1), two masked 16-bit
// multiplies move the four 6-bit fields into bytes of their own (high and low products),
// and a shuffle by range (A-Z, a-z, 0-9, '+', '/') picks what to add to make each one a
// character. Reads 28 bytes per block (the second lane's load reaches 4 past the 24).
__attribute__((target("avx2"))) size_t EncodeBlocksAvx2(const uint8_t* src, size_t size,
                                                        char* dst) {
  const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10, 1, 0,
                                          2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  const __m256i first_third = _mm256_set1_epi32(0x0FC0FC00);    // fields 0 and 2
  const __m256i to_bytes_0_2 = _mm256_set1_epi32(0x04000040);   // high product: >> 10, >> 6
  const __m256i second_fourth = _mm256_set1_epi32(0x003F03F0);  // fields 1 and 3
  const __m256i to_bytes_1_3 = _mm256_set1_epi32(0x01000010);   // low product: << 4, << 8
  // Added to a sextet, by range: index 0 for 26-51, 1-10 for 52-61, 11 for 62 ('+'), 12
  // for 63 ('/'), 13 for 0-25.
  const __m256i add =
      _mm256_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0, 71, -4, -4,
                       -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
  const __m256i above_51 = _mm256_set1_epi8(51);
  const __m256i below_26 = _mm256_set1_epi8(26);
  const __m256i thirteen = _mm256_set1_epi8(13);
  size_t i = 0;
  for (; i + 28 <= size; i += 24, dst += 32) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 12));
    const __m256i groups = _mm256_shuffle_epi8(_mm256_set_m128i(hi, lo), spread);
    const __m256i f02 = _mm256_mulhi_epu16(_mm256_and_si256(groups, first_third), to_bytes_0_2);
    const __m256i f13 = _mm256_mullo_epi16(_mm256_and_si256(groups, second_fourth), to_bytes_1_3);
    const __m256i sextets = _mm256_or_si256(f02, f13);
    __m256i index = _mm256_subs_epu8(sextets, above_51);
    index =
        _mm256_or_si256(index, _mm256_and_si256(_mm256_cmpgt_epi8(below_26, sextets), thirteen));
    const __m256i text = _mm256_add_epi8(sextets, _mm256_shuffle_epi8(add, index));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), text);
  }
  return i;
}

const bool kHaveAvx2 = __builtin_cpu_supports("avx2");

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
  if (kHaveAvx2) {
    i = EncodeBlocksAvx2(src, bytes.size(), dst);
    dst += i / 3 * 4;
  }
  // Six bytes at a time from one 8-byte load (the two bytes past them must exist), then
  // three at a time.
  for (; i + 8 <= bytes.size(); i += 6, dst += 8) {
    uint64_t word;
    std::memcpy(&word, src + i, 8);
    const uint64_t v = __builtin_bswap64(word) >> 16;  // the six bytes, big-endian
    std::memcpy(dst, &kPairs[2 * ((v >> 36) & 0xFFF)], 2);
    std::memcpy(dst + 2, &kPairs[2 * ((v >> 24) & 0xFFF)], 2);
    std::memcpy(dst + 4, &kPairs[2 * ((v >> 12) & 0xFFF)], 2);
    std::memcpy(dst + 6, &kPairs[2 * (v & 0xFFF)], 2);
  }
  for (; i + 3 <= bytes.size(); i += 3, dst += 4) {
    const uint32_t v = (uint32_t{src[i]} << 16) | (uint32_t{src[i + 1]} << 8) | src[i + 2];
    std::memcpy(dst, &kPairs[2 * (v >> 12)], 2);
    std::memcpy(dst + 2, &kPairs[2 * (v & 0xFFF)], 2);
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
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  const size_t out_size = out.size();
  if (kHaveAvx2) {
    i = DecodeBlocksAvx2(in, data_len, dst, out_size);
    dst += i / 4 * 3;
  }
  // Eight characters at a time into one 8-byte store of six bytes, while the output has
  // room for the two bytes past them (a later group overwrites them).
  for (; i + 8 <= data_len && (i + 8) / 4 * 3 + 2 <= out_size; i += 8, dst += 6) {
    const uint32_t hi = kAt18[in[i]] | kAt12[in[i + 1]] | kAt6[in[i + 2]] | kAt0[in[i + 3]];
    const uint32_t lo = kAt18[in[i + 4]] | kAt12[in[i + 5]] | kAt6[in[i + 6]] | kAt0[in[i + 7]];
    if ((hi | lo) & kBadBit) break;  // the four-at-a-time loop below finds which one
    const uint64_t bytes = (uint64_t{hi} << 40) | (uint64_t{lo} << 16);
    const uint64_t word = __builtin_bswap64(bytes);
    std::memcpy(dst, &word, 8);
  }
  for (; i + 4 <= data_len; i += 4, dst += 3) {
    const uint32_t v = kAt18[in[i]] | kAt12[in[i + 1]] | kAt6[in[i + 2]] | kAt0[in[i + 3]];
    if (v & kBadBit) {
      for (size_t j = i; j < i + 4; ++j) {
        if (Sextet(text[j]) == kBad) return Error(BadBase64(field, "a bad character", j));
      }
    }
    dst[0] = static_cast<char>(v >> 16);
    dst[1] = static_cast<char>(v >> 8);
    dst[2] = static_cast<char>(v);
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
