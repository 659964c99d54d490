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
  auto json = ParseComplete(R"({"lease":"L1","result": {"ok": true} })", kLimits);
  ASSERT_TRUE(json.has_value()) << json.error().ToString();
  EXPECT_EQ(json->lease, "L1");
  EXPECT_EQ(json->result, R"({"ok": true})");
  EXPECT_TRUE(json->result_is_json);
  auto bytes = ParseComplete(R"({"lease":"L1","result_b64":"aGk="})", kLimits);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(bytes->result, "hi");
  EXPECT_FALSE(bytes->result_is_json);
  auto empty = ParseComplete(R"({"lease":"L1"})", kLimits);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->result, "");
}

TEST(ParseComplete, RequiresAValidLease) {
  EXPECT_EQ(ParseComplete(R"({"result":1})", kLimits).error().field(), "lease");
  EXPECT_EQ(ParseComplete(R"({"lease":"a/b"})", kLimits).error().field(), "lease");
  EXPECT_EQ(ParseComplete(R"({"lease":7})", kLimits).error().field(), "lease");
  EXPECT_EQ(ParseComplete("", kLimits).error().field(), "body");
}

TEST(ParseFail, ErrorAndRetryable) {
  auto r = ParseFail(R"({"lease":"L","error":"smtp down","retryable":false})", kLimits);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->lease, "L");
  EXPECT_EQ(r->error, "smtp down");
  EXPECT_FALSE(r->retryable);
  EXPECT_TRUE(ParseFail(R"({"lease":"L","error":""})", kLimits)->retryable);
  EXPECT_EQ(ParseFail(R"({"error":"x"})", kLimits).error().field(), "lease");
  EXPECT_EQ(ParseFail(R"({"lease":"L","error":"x","result":1})", kLimits).error().field(),
            "result");
}

TEST(ParseCompletions, ReadsCompletesAndFailsInOrder) {
  auto r = ParseCompletions(
      R"([{"id":"00000000000000ff","lease":"a","result":[1]},)"
      R"({"id":"0000000000000100","lease":"b","error":"boom","retryable":false},)"
      R"({"lease":"c"}, 7, {"id":"0000000000000101","lease":"d","error":"x","result":1}])",
      kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->size(), 5u);
  ASSERT_TRUE((*r)[0].has_value());
  EXPECT_EQ((*r)[0]->id, CommandId(0xff));
  const auto& complete = std::get<CompleteRequest>((*r)[0]->outcome);
  EXPECT_EQ(complete.lease, "a");
  EXPECT_EQ(complete.result, "[1]");
  ASSERT_TRUE((*r)[1].has_value());
  const auto& fail = std::get<FailRequest>((*r)[1]->outcome);
  EXPECT_EQ(fail.lease, "b");
  EXPECT_EQ(fail.error, "boom");
  EXPECT_FALSE(fail.retryable);
  EXPECT_EQ((*r)[2].error().field(), "id");
  EXPECT_EQ((*r)[3].error().field(), "item");
  EXPECT_EQ((*r)[4].error().field(), "error");
}

TEST(ParseCompletions, RefusesTheWholeBody) {
  LeaseLimits limits;
  limits.max_completions = 2;
  const std::string item = R"({"id":"00000000000000ff","lease":"a"})";
  auto too_many = ParseCompletions("[" + item + "," + item + "," + item + "]", limits);
  EXPECT_EQ(too_many.error().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(too_many.error().field(), "body");
  EXPECT_EQ(ParseCompletions("[]", limits).error().field(), "body");
  EXPECT_EQ(ParseCompletions("{}", limits).error().field(), "body");
  EXPECT_EQ(ParseCompletions("[" + item, limits).error().field(), "body");
}

TEST(ParseCompletionsRequest, ReadsOutcomesThenTheLease) {
  auto r = ParseCompletionsRequest(
      R"({"outcomes":[{"id":"00000000000000ff","lease":"a","result":1},{"lease":"b"}],)"
      R"("lease":{"types":["t"],"worker":"w","max":50,"wait_ms":0}})",
      kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->items.size(), 2u);
  ASSERT_TRUE(r->items[0].has_value());
  EXPECT_EQ(r->items[0]->id, CommandId(0xff));
  EXPECT_EQ(r->items[1].error().field(), "id");  // each item stands alone
  ASSERT_TRUE(r->lease.has_value());
  EXPECT_EQ(r->lease->types, (std::vector<std::string>{"t"}));
  EXPECT_EQ(r->lease->worker, "w");
  EXPECT_EQ(r->lease->max, 50u);
}

TEST(ParseCompletionsRequest, ALeaseAloneAndTheArrayFormAsBefore) {
  auto lease_only = ParseCompletionsRequest(R"({"lease":{"types":["t"],"worker":"w"}})", kLimits);
  ASSERT_TRUE(lease_only.has_value()) << lease_only.error().ToString();
  EXPECT_TRUE(lease_only->items.empty());
  EXPECT_EQ(lease_only->lease->max, 1u);
  auto empty_with_lease =
      ParseCompletionsRequest(R"({"outcomes":[],"lease":{"types":["t"],"worker":"w"}})", kLimits);
  ASSERT_TRUE(empty_with_lease.has_value());
  auto array = ParseCompletionsRequest(R"( [{"id":"00000000000000ff","lease":"a"}])", kLimits);
  ASSERT_TRUE(array.has_value());
  EXPECT_EQ(array->items.size(), 1u);
  EXPECT_FALSE(array->lease.has_value());
  EXPECT_EQ(ParseCompletionsRequest("[]", kLimits).error().field(), "body");
  auto outcomes_only = ParseCompletionsRequest(R"({"outcomes":[{"lease":"a"}]})", kLimits);
  ASSERT_TRUE(outcomes_only.has_value());
  EXPECT_FALSE(outcomes_only->lease.has_value());
  // A lease member's error names it inside the lease.
  auto bad = ParseCompletionsRequest(R"({"lease":{"types":[],"worker":"w"}})", kLimits);
  EXPECT_EQ(bad.error().field(), "lease.types");
  EXPECT_NE(bad.error().message().find("lease"), std::string::npos);
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
