#include "protocol/base64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace cmdq::protocol {
namespace {

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesPaddedAndUnpadded) {
  EXPECT_EQ(Base64Decode("Zm9vYg==", "f").value(), "foob");
  EXPECT_EQ(Base64Decode("Zm9vYg", "f").value(), "foob");
  EXPECT_EQ(Base64Decode("Zm9vYmE=", "f").value(), "fooba");
  EXPECT_EQ(Base64Decode("Zm9vYmE", "f").value(), "fooba");
  EXPECT_EQ(Base64Decode("", "f").value(), "");
}

TEST(Base64, RoundTripsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= bytes.size(); n += 7) {
    const std::string_view part(bytes.data(), n);
    EXPECT_EQ(Base64Decode(Base64Encode(part), "f").value(), part);
  }
}

// The table-driven codec against the plainest one there is, on every length from 0 to
// 300 of random bytes: padded and unpadded text, and a bad character at every position.
std::string ReferenceEncode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) out.push_back(kAlphabet[(bits >> (count -= 6)) & 63]);
  }
  if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 63]);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

TEST(Base64, AgreesWithAPlainCodecOnEveryLength) {
  std::mt19937 random(7);
  for (size_t n = 0; n <= 300; ++n) {
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    const std::string text = ReferenceEncode(bytes);
    ASSERT_EQ(Base64Encode(bytes), text) << n;
    ASSERT_EQ(Base64Decode(text, "f").value(), bytes) << n;
    std::string unpadded = text;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    ASSERT_EQ(Base64Decode(unpadded, "f").value(), bytes) << n;
    for (size_t at = 0; at < unpadded.size(); at += 5) {
      std::string bad = unpadded;
      bad[at] = '*';
      auto r = Base64Decode(bad, "f");
      ASSERT_FALSE(r.has_value()) << n << " " << at;
      EXPECT_NE(r.error().message().find("character " + std::to_string(at)), std::string::npos)
          << r.error().message();
    }
  }
}

// Every byte value at every position of a text long enough for the 32-character blocks
// (and the tail after them): the alphabet's 64 decode to their sextet, the other 192 are
// refused naming that position.
TEST(Base64, JudgesEveryByteValueAtEveryPosition) {
  std::mt19937 random(11);
  std::string bytes(75, '\0');  // 100 characters: three blocks of 32 and a tail of 4
  for (char& c : bytes) c = static_cast<char>(random());
  const std::string text = ReferenceEncode(bytes);
  ASSERT_EQ(text.size(), 100u);
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t at = 0; at < text.size(); ++at) {
    for (int value = 0; value < 256; ++value) {
      // '=' in the last two places is padding, with rules of its own (tested above).
      if (value == '=' && at + 2 >= text.size()) continue;
      std::string changed = text;
      changed[at] = static_cast<char>(value);
      auto r = Base64Decode(changed, "f");
      const size_t sextet = kAlphabet.find(static_cast<char>(value));
      if (sextet == std::string_view::npos) {
        ASSERT_FALSE(r.has_value()) << at << " " << value;
        ASSERT_NE(r.error().message().find("character " + std::to_string(at)), std::string::npos)
            << r.error().message();
        continue;
      }
      ASSERT_TRUE(r.has_value()) << at << " " << value;
      // The sextet lands in bits [18 - 6 * (at % 4)] of its group's 24.
      const size_t group = at / 4 * 3;
      const uint32_t old_bits = (uint32_t{uint8_t(bytes[group])} << 16) |
                                (uint32_t{uint8_t(bytes[group + 1])} << 8) |
                                uint8_t(bytes[group + 2]);
      const int shift = 18 - 6 * static_cast<int>(at % 4);
      const uint32_t bits = (old_bits & ~(63u << shift)) | (uint32_t(sextet) << shift);
      std::string expected = bytes;
      expected[group] = static_cast<char>(bits >> 16);
      expected[group + 1] = static_cast<char>(bits >> 8);
      expected[group + 2] = static_cast<char>(bits);
      ASSERT_EQ(*r, expected) << at << " " << value;
    }
  }
}

TEST(Base64, RefusesWhatIsNotBase64) {
  for (std::string_view bad : {"Zm9v!", "Zm9vY", "Zm=9", "Zm9vYg=", "Zm9vYg===", "Zh==", "Zm9 v",
                               "Zm9v\n", "-_8=", "===="}) {
    auto r = Base64Decode(bad, "payload_b64");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.error().field(), "payload_b64");
  }
}

}  // namespace
}  // namespace cmdq::protocol
