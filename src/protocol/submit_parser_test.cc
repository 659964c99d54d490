#include "protocol/submit_parser.h"

#include <gtest/gtest.h>

#include "protocol/record_writer.h"

namespace cmdq::protocol {
namespace {

const SubmitLimits kLimits;

TEST(ParseSubmit, ReadsEveryField) {
  auto c =
      ParseSubmit(R"({"type":"email.send","key":"user-1","payload":{"to": "a@b.c", "n": [1, 2.5e3]},
      "idempotency_key":"k-1","headers":{"trace":"t1","lang":"fr"},
      "not_before":"2025-06-01T12:00:00.5Z","max_attempts":5,"timeout_ms":1500})",
                  kLimits);
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->type, "email.send");
  EXPECT_EQ(c->key, "user-1");
  // The payload is kept byte for byte as sent, whitespace included.
  EXPECT_EQ(c->payload, R"({"to": "a@b.c", "n": [1, 2.5e3]})");
  EXPECT_TRUE(c->payload_is_json);
  EXPECT_EQ(c->idempotency_key, "k-1");
  ASSERT_EQ(c->headers.size(), 2u);
  EXPECT_EQ(c->headers[0], (std::pair<std::string, std::string>{"trace", "t1"}));
  EXPECT_EQ(c->headers[1], (std::pair<std::string, std::string>{"lang", "fr"}));
  EXPECT_EQ(c->not_before_us, 1'748'779'200'500'000);
  EXPECT_EQ(c->max_attempts, 5u);
  EXPECT_EQ(c->timeout_ms, 1500u);
  EXPECT_FALSE(c->id.valid());
}

TEST(ParseSubmit, MinimalCommandHasDefaults) {
  auto c = ParseSubmit(R"({"type":"cmdq.noop","key":"k"})", kLimits);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->payload, "");
  EXPECT_FALSE(c->payload_is_json);
  EXPECT_EQ(c->not_before_us, 0);
  EXPECT_EQ(c->max_attempts, 0u);
}

TEST(ParseSubmit, ScalarPayloadsKeepTheirText) {
  for (std::string_view payload :
       {"null", "true", "-12.5e-3", R"("text")", "[]", "{}", "123456789012345678901234567890"}) {
    auto c =
        ParseSubmit(R"({"type":"t","key":"k","payload": )" + std::string(payload) + " }", kLimits);
    ASSERT_TRUE(c.has_value()) << payload << ": " << c.error().ToString();
    EXPECT_EQ(c->payload, payload);
    EXPECT_TRUE(c->payload_is_json);
  }
}

TEST(ParseSubmit, Base64PayloadIsDecoded) {
  auto c = ParseSubmit(R"({"type":"t","key":"k","payload_b64":"AAH/"})", kLimits);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->payload, std::string("\x00\x01\xff", 3));
  EXPECT_FALSE(c->payload_is_json);
}

TEST(ParseSubmit, NullMeansNotGivenForOptionalFields) {
  auto c = ParseSubmit(R"({"type":"t","key":"k","payload_b64":null,"idempotency_key":null,
      "headers":null,"not_before":null,"max_attempts":null,"timeout_ms":null,"payload":7})",
                       kLimits);
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->payload, "7");
}

TEST(ParseSubmit, EscapedStringsAreUnescaped) {
  auto c = ParseSubmit(R"({"type":"t","key":"caf\u00e9 \"q\" \ud83d\ude00"})", kLimits);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->key, "caf\xc3\xa9 \"q\" \xf0\x9f\x98\x80");
}

TEST(ParseSubmit, UnicodeEscapedKeysNameFields) {
  auto c = ParseSubmit(R"({"\u0074ype":"t","key":"k"})", kLimits);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->type, "t");
}

TEST(ParseSubmit, PayloadAtTheLimitPassesAndOneMoreFails) {
  SubmitLimits limits;
  limits.max_payload_bytes = 10;
  EXPECT_TRUE(ParseSubmit(R"({"type":"t","key":"k","payload":"12345678"})", limits).has_value());
  auto big = ParseSubmit(R"({"type":"t","key":"k","payload":"123456789"})", limits);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(big.error().field(), "payload");
  EXPECT_TRUE(ParseSubmit(R"({"type":"t","key":"k","payload_b64":"MTIzNDU2Nzg5MA=="})", limits)
                  .has_value());
  auto big64 = ParseSubmit(R"({"type":"t","key":"k","payload_b64":"MTIzNDU2Nzg5MDE="})", limits);
  ASSERT_FALSE(big64.has_value());
  EXPECT_EQ(big64.error().field(), "payload_b64");
}

TEST(ParseSubmitBatch, EachItemHasItsOwnResult) {
  auto r = ParseSubmitBatch(
      R"([{"type":"a","key":"1"}, {"type":"b"}, 5, {"type":"c","key":"3","bogus":1}, {"type":"d","key":"4"}])",
      kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0]->type, "a");
  EXPECT_EQ((*r)[1].error().field(), "key");
  EXPECT_EQ((*r)[2].error().field(), "item");
  EXPECT_EQ((*r)[3].error().field(), "bogus");
  EXPECT_EQ((*r)[4]->type, "d");
}

TEST(ParseSubmitBatch, MalformedJsonInAnyItemRefusesTheBody) {
  // The bad item is already refused for its unknown field; the broken JSON after it
  // must still be found, not skipped over.
  auto r = ParseSubmitBatch(R"([{"x":1,"y":tru},{"type":"a","key":"1"}])", kLimits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field(), "body");
}

TEST(ParseSubmitBatch, AtTheLimitPassesAndOneMoreFails) {
  SubmitLimits limits;
  limits.max_batch = 2;
  const std::string item = R"({"type":"a","key":"1"})";
  EXPECT_TRUE(ParseSubmitBatch("[" + item + "," + item + "]", limits).has_value());
  auto r = ParseSubmitBatch("[" + item + "," + item + "," + item + "]", limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.error().field(), "body");
}

TEST(IsBatchBody, LooksAtTheFirstByte) {
  EXPECT_TRUE(IsBatchBody(" \n[{}]"));
  EXPECT_FALSE(IsBatchBody(" {}"));
  EXPECT_FALSE(IsBatchBody(""));
}

TEST(ParseSubmit, RecordOfAParsedCommandEchoesThePayload) {
  auto c = ParseSubmit(R"({"type":"t","key":"k","payload":{"a": [1,2]}})", kLimits);
  ASSERT_TRUE(c.has_value());
  Record record;
  record.command = *c;
  const std::string json = RecordJson(record);
  EXPECT_NE(json.find(R"("payload":{"a": [1,2]})"), std::string::npos) << json;
  auto b = ParseSubmit(R"({"type":"t","key":"k","payload_b64":"AAH/"})", kLimits);
  record.command = *b;
  EXPECT_NE(RecordJson(record).find(R"("payload_b64":"AAH/")"), std::string::npos);
}

TEST(ParseSubmit, ParsesAgainAfterALargeBody) {
  // The thread's buffer grows and is reused; a short body after a long one must not
  // see the long one's bytes.
  std::string big = R"({"type":"t","key":"k","payload":")" + std::string(100'000, 'x') + "\"}";
  ASSERT_TRUE(ParseSubmit(big, kLimits).has_value());
  auto small = ParseSubmit(R"({"type":"t","key":"k"})", kLimits);
  ASSERT_TRUE(small.has_value());
  auto truncated = ParseSubmit(R"({"type":"t","key":"k")", kLimits);
  ASSERT_FALSE(truncated.has_value());
  EXPECT_EQ(truncated.error().field(), "body");
}

}  // namespace
}  // namespace cmdq::protocol
