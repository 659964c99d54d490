#include "protocol/worker_parser.h"

#include <gtest/gtest.h>

#include "protocol/query_parser.h"

namespace cmdq::protocol {
namespace {

const LeaseLimits kLimits;

TEST(ParseLeaseRequest, ReadsEveryField) {
  auto r = ParseLeaseRequest(
      R"({"types":["a","b"],"max":10,"wait_ms":500,"worker":"w-1","lease_ms":30000})", kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->types, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->max, 10u);
  EXPECT_EQ(r->wait_ms, 500u);
  EXPECT_EQ(r->worker, "w-1");
  EXPECT_EQ(r->lease_ms, 30000u);
}

TEST(ParseLeaseRequest, Defaults) {
  auto r = ParseLeaseRequest(R"({"types":["a"],"worker":"w","max":null})", kLimits);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->max, 1u);
  EXPECT_EQ(r->wait_ms, 0u);
  EXPECT_EQ(r->lease_ms, 0u);
}

TEST(ParseComplete, JsonBase64OrNothing) {
  auto json = ParseComplete(R"({"result": {"ok": true} })", kLimits);
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ(json->result, R"({"ok": true})");
  EXPECT_TRUE(json->result_is_json);
  auto bytes = ParseComplete(R"({"result_b64":"aGk="})", kLimits);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(bytes->result, "hi");
  EXPECT_FALSE(bytes->result_is_json);
  auto empty = ParseComplete("", kLimits);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->result, "");
}

TEST(ParseFail, ErrorAndRetryable) {
  auto r = ParseFail(R"({"error":"smtp down","retryable":false})", kLimits);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->error, "smtp down");
  EXPECT_FALSE(r->retryable);
  EXPECT_TRUE(ParseFail(R"({"error":""})", kLimits)->retryable);
}

TEST(ParseHeartbeat, EmptyBodyKeepsTheDuration) {
  EXPECT_EQ(ParseHeartbeat("", kLimits)->lease_ms, 0u);
  EXPECT_EQ(ParseHeartbeat(R"({"lease_ms":5000})", kLimits)->lease_ms, 5000u);
}

TEST(ParseListQuery, ReadsEveryParameter) {
  auto q =
      ParseListQuery("key=user%201&state=dead&type=email.send&cursor=00000000000000ff&limit=50");
  ASSERT_TRUE(q.has_value()) << q.error().ToString();
  EXPECT_EQ(q->key, "user 1");
  EXPECT_EQ(q->state, State::kDead);
  EXPECT_EQ(q->type, "email.send");
  EXPECT_EQ(q->before, CommandId(0xff));
  EXPECT_EQ(q->limit, 50u);
}

TEST(ParseListQuery, EmptyValuesAreLeftOut) {
  auto q = ParseListQuery("key=&state=&type=&cursor=&limit=&");
  ASSERT_TRUE(q.has_value());
  EXPECT_FALSE(q->key.has_value());
  EXPECT_FALSE(q->state.has_value());
  EXPECT_FALSE(q->before.valid());
  EXPECT_EQ(q->limit, kDefaultListLimit);
  EXPECT_EQ(ParseListQuery("")->limit, kDefaultListLimit);
  EXPECT_EQ(ParseListQuery("key=a+b")->key, "a b");
}

TEST(PathSegments, IdsAndLeases) {
  EXPECT_EQ(ParseIdSegment("0123456789abcdef").value(), CommandId(0x0123456789abcdef));
  EXPECT_EQ(ParseLeaseSegment("L-1.a_b~").value(), "L-1.a_b~");
  EXPECT_FALSE(ParseLeaseSegment(std::string(129, 'a')).has_value());
}

}  // namespace
}  // namespace cmdq::protocol
