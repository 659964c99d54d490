#include "tiny_json.h"

#include <gtest/gtest.h>

namespace cmdq::app {
namespace {

TEST(TinyJson, ReadsAnIntegerMember) {
  EXPECT_EQ(JsonIntMember(R"({"ms": 5})", "ms", 0).value(), 5);
  EXPECT_EQ(JsonIntMember(R"( { "a": 1, "times":12 } )", "times", 0).value(), 12);
}

TEST(TinyJson, EmptyPayloadOrMissingMemberGivesFallback) {
  EXPECT_EQ(JsonIntMember("", "ms", 7).value(), 7);
  EXPECT_EQ(JsonIntMember(R"({"other": 1})", "ms", 7).value(), 7);
}

TEST(TinyJson, RejectsNonObjectsAndBadValuesNamingTheField) {
  EXPECT_EQ(JsonIntMember("5", "ms", 0).error().field(), "payload");
  EXPECT_EQ(JsonIntMember(R"({"ms": "x"})", "ms", 0).error().field(), "ms");
  EXPECT_EQ(JsonIntMember(R"({"ms": -1})", "ms", 0).error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmdq::app
