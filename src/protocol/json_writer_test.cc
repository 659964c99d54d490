#include "protocol/json_writer.h"

#include <gtest/gtest.h>

#include "protocol/json_reader.h"
#include "protocol/rfc3339.h"
#include "protocol/utf8.h"

namespace cmdq::protocol {
namespace {

TEST(JsonWriter, PlacesCommasAndNests) {
  JsonWriter w;
  w.BeginObject().Key("a").Int(-1).Key("b").BeginArray().Uint(1).Bool(true).Null();
  w.BeginObject().EndObject().BeginArray().EndArray().EndArray().Key("c").Raw("[1]").EndObject();
  EXPECT_EQ(w.str(), R"({"a":-1,"b":[1,true,null,{},[]],"c":[1]})");
  EXPECT_TRUE(json::IsJsonText(w.str()));
}

TEST(JsonWriter, EscapesStrings) {
  JsonWriter w;
  w.String(std::string("q\"b\\n\n\t\r\b\f\x01\x1f/\x7f", 14));
  EXPECT_EQ(w.str(), "\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001\\u001f/\x7f\"");
  EXPECT_TRUE(json::IsJsonText(w.str()));
}

// Every byte value inside an otherwise plain string: plain ASCII is copied, the rest
// is escaped or (a lone byte over 0x7f is not UTF-8) replaced.
TEST(JsonWriter, JudgesEveryByteValueInAPlainString) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    std::string expected = "\"x";
    if (c == '"') {
      expected += "\\\"";
    } else if (c == '\\') {
      expected += "\\\\";
    } else if (b < 0x20) {
      JsonWriter one;
      one.String(std::string(1, c));
      expected += one.str().substr(1, one.str().size() - 2);  // as EscapesStrings checks
      EXPECT_EQ(expected.find('\\'), 2u) << b;
    } else if (b >= 0x80) {
      expected += "\xEF\xBF\xBD";
    } else {
      expected += c;
    }
    expected += "y\"";
    JsonWriter w;
    w.String(std::string("x") + c + "y");
    EXPECT_EQ(w.str(), expected) << "byte " << b;
  }
}

TEST(JsonWriter, ReplacesInvalidUtf8) {
  JsonWriter w;
  w.String(
      "a\xff"
      "b\xe2\x82"
      "c\xf0\x9f\x98\x80");
  EXPECT_EQ(w.str(),
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\xf0\x9f\x98\x80\"");
  EXPECT_TRUE(IsValidUtf8(w.str()));
}

TEST(JsonWriter, WritesBase64AndTimes) {
  JsonWriter w;
  w.BeginArray().Base64("foob").Time(0).Time(1'735'689'600'000'001).EndArray();
  EXPECT_EQ(w.str(), R"(["Zm9vYg==",null,"2025-01-01T00:00:00.000001Z"])");
}

TEST(Utf8, SanitizesEachMaximalSubpart) {
  std::string out;
  AppendSanitizedUtf8("\xed\xa0\x80x\xc0", out);  // a surrogate, then an invalid lead
  EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx\xEF\xBF\xBD");
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));
}

TEST(Rfc3339, FormatsAndParsesBack) {
  for (int64_t us : {int64_t{0}, int64_t{1}, int64_t{951'782'400'000'000} /* 2000-02-29 */,
                     int64_t{1'735'689'600'123'456}, int64_t{253'402'300'799'999'999}}) {
    const std::string text = FormatRfc3339(us);
    EXPECT_EQ(text.size(), kRfc3339Size);
    EXPECT_EQ(ParseRfc3339(text, "t").value(), us) << text;
  }
  EXPECT_EQ(FormatRfc3339(951'782'400'000'000), "2000-02-29T00:00:00.000000Z");
}

TEST(Rfc3339, ReadsOffsetsFractionsAndLowercase) {
  EXPECT_EQ(ParseRfc3339("2025-01-01T01:00:00+01:00", "t").value(), 1'735'689'600'000'000);
  EXPECT_EQ(ParseRfc3339("2024-12-31t23:30:00-00:30z", "t").has_value(), false);
  EXPECT_EQ(ParseRfc3339("2024-12-31t23:30:00-00:30", "t").value(), 1'735'689'600'000'000);
  EXPECT_EQ(ParseRfc3339("2025-01-01T00:00:00.123456789Z", "t").value(), 1'735'689'600'123'456);
  EXPECT_EQ(ParseRfc3339("2025-01-01T00:00:00.5z", "t").value(), 1'735'689'600'500'000);
}

TEST(Rfc3339, RefusesBadTimes) {
  for (std::string_view bad :
       {"", "2025-01-01", "2025-01-01 00:00:00Z", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
        "2025-01-01T24:00:00Z", "2025-01-01T00:00:60Z", "2025-01-01T00:00:00.Z",
        "2025-01-01T00:00:00.1234567890Z", "1969-12-31T23:59:59Z", "2025-01-01T00:00:00+1:00",
        "2025-01-01T00:00:00Zx", "１９７０-01-01T00:00:00Z"}) {
    auto r = ParseRfc3339(bad, "not_before");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().field(), "not_before");
  }
}

}  // namespace
}  // namespace cmdq::protocol
