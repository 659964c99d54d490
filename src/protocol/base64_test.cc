#include "protocol/base64.h"

#include <gtest/gtest.h>

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
