#include "message.h"

#include <gtest/gtest.h>

namespace cmdq::peers {
namespace {

TEST(Message, HeaderRoundTrips) {
  const std::string body =
      EncodeMessage({.seq = 123456789, .submit_ns = -42}, "user-00007", std::string(1024, 'x'));
  EXPECT_EQ(body.size(), 16u + 10u + 1024u);
  const auto header = DecodeHeader(body);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->seq, 123456789u);
  EXPECT_EQ(header->submit_ns, -42);
}

TEST(Message, ShortBodyHasNoHeader) { EXPECT_FALSE(DecodeHeader("too short").has_value()); }

}  // namespace
}  // namespace cmdq::peers
