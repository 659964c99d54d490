// Bad input at the codec level (issue 4, "Bad input"): every kind of bad request the
// protocol layer can see is refused with the right code and the field that names it.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "protocol/query_parser.h"
#include "protocol/submit_parser.h"
#include "protocol/worker_parser.h"

namespace cmdq::protocol {
namespace {

using Parse = std::function<Status(std::string_view)>;

template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.has_value() ? Status::Ok() : r.error();
}

Status Submit(std::string_view b) { return StatusOf(ParseSubmit(b, SubmitLimits{})); }
Status Batch(std::string_view b) {
  SubmitLimits limits;
  limits.max_batch = 3;
  auto r = ParseSubmitBatch(b, limits);
  if (!r) return r.error();
  // A batch whose body is fine reports its first item's error, for the table.
  for (const auto& item : *r) {
    if (!item) return item.error();
  }
  return Status::Ok();
}
Status Lease(std::string_view b) { return StatusOf(ParseLeaseRequest(b, LeaseLimits{})); }
Status Complete(std::string_view b) { return StatusOf(ParseComplete(b, LeaseLimits{})); }
Status Fail(std::string_view b) { return StatusOf(ParseFail(b, LeaseLimits{})); }
Status Heartbeat(std::string_view b) { return StatusOf(ParseHeartbeat(b, LeaseLimits{})); }
// POST /v1/completions in its object form; a body that is fine reports its first item's
// error, for the table.
Status CompleteAndLease(std::string_view b) {
  LeaseLimits limits;
  limits.max_completions = 2;
  auto r = ParseCompletionsRequest(b, limits);
  if (!r) return r.error();
  for (const auto& item : r->items) {
    if (!item) return item.error();
  }
  return Status::Ok();
}
Status Query(std::string_view q) { return StatusOf(ParseListQuery(q)); }
Status Id(std::string_view s) { return StatusOf(ParseIdSegment(s)); }
Status LeaseId(std::string_view s) { return StatusOf(ParseLeaseSegment(s)); }

struct BadInput {
  const char* name;
  Parse parse;
  std::string input;
  StatusCode code;
  const char* field;
};

constexpr StatusCode kInvalid = StatusCode::kInvalidArgument;
constexpr StatusCode kTooLarge = StatusCode::kResourceExhausted;

std::string Cmd(std::string_view extra) {
  return std::string(R"({"type":"t","key":"k")") + std::string(extra) + "}";
}

std::vector<BadInput> Table() {
  return {
      // The body as a whole.
      {"empty body", Submit, "", kInvalid, "body"},
      {"whitespace body", Submit, " \n\t", kInvalid, "body"},
      {"not json", Submit, "hello", kInvalid, "body"},
      {"truncated object", Submit, R"({"type":"t","key":"k")", kInvalid, "body"},
      {"unclosed string", Submit, R"({"type":"t)", kInvalid, "body"},
      {"missing colon", Submit, R"({"type" "t","key":"k"})", kInvalid, "body"},
      {"trailing comma", Submit, R"({"type":"t","key":"k",})", kInvalid, "body"},
      {"bad literal", Submit, Cmd(R"(,"payload":tru)"), kInvalid, "body"},
      {"bad number", Submit, Cmd(R"(,"payload":01)"), kInvalid, "body"},
      {"bad escape", Submit, R"({"type":"\q","key":"k"})", kInvalid, "body"},
      {"trailing garbage", Submit, Cmd("") + "x", kInvalid, "body"},
      {"two documents", Submit, Cmd("") + Cmd(""), kInvalid, "body"},
      {"array for a command", Submit, "[1]", kInvalid, "body"},
      {"scalar for a command", Submit, "42", kInvalid, "body"},
      {"invalid utf-8 in a string", Submit, "{\"type\":\"t\xff\",\"key\":\"k\"}", kInvalid, "body"},
      {"overlong utf-8", Submit, "{\"type\":\"t\xc0\xaf\",\"key\":\"k\"}", kInvalid, "body"},
      {"lone surrogate escape", Submit, R"({"type":"\ud800","key":"k"})", kInvalid, "body"},
      {"malformed after a bad field", Submit, R"({"bogus":1,"key":nul})", kInvalid, "body"},
      {"too deep payload", Submit,
       Cmd(R"(,"payload":)" + std::string(200, '[') + std::string(200, ']')), kInvalid, "body"},
      // Fields of a submit.
      {"missing type", Submit, R"({"key":"k"})", kInvalid, "type"},
      {"missing key", Submit, R"({"type":"t"})", kInvalid, "key"},
      {"unknown field", Submit, Cmd(R"(,"colour":"red")"), kInvalid, "colour"},
      {"id is not an input", Submit, Cmd(R"(,"id":"0000000000000001")"), kInvalid, "id"},
      {"repeated field", Submit, Cmd(R"(,"type":"u")"), kInvalid, "type"},
      {"type not a string", Submit, R"({"type":5,"key":"k"})", kInvalid, "type"},
      {"type null", Submit, R"({"type":null,"key":"k"})", kInvalid, "type"},
      {"key an object", Submit, R"({"type":"t","key":{}})", kInvalid, "key"},
      {"idempotency_key a number", Submit, Cmd(R"(,"idempotency_key":1)"), kInvalid,
       "idempotency_key"},
      {"headers an array", Submit, Cmd(R"(,"headers":["a"])"), kInvalid, "headers"},
      {"header value a number", Submit, Cmd(R"(,"headers":{"a":1})"), kInvalid, "headers.a"},
      {"repeated header", Submit, Cmd(R"(,"headers":{"a":"1","a":"2"})"), kInvalid, "headers.a"},
      {"too many headers", Submit, Cmd([] {
         std::string h = R"(,"headers":{)";
         for (int i = 0; i < 65; ++i) h += (i ? ",\"h" : "\"h") + std::to_string(i) + "\":\"v\"";
         return h + "}";
       }()),
       kInvalid, "headers"},
      {"max_attempts a string", Submit, Cmd(R"(,"max_attempts":"3")"), kInvalid, "max_attempts"},
      {"max_attempts negative", Submit, Cmd(R"(,"max_attempts":-1)"), kInvalid, "max_attempts"},
      {"max_attempts fractional", Submit, Cmd(R"(,"max_attempts":1.5)"), kInvalid, "max_attempts"},
      {"max_attempts over uint32", Submit, Cmd(R"(,"max_attempts":4294967296)"), kInvalid,
       "max_attempts"},
      {"timeout_ms over uint64", Submit, Cmd(R"(,"timeout_ms":18446744073709551616)"), kInvalid,
       "timeout_ms"},
      {"timeout_ms huge", Submit, Cmd(R"(,"timeout_ms":1e999999)"), kInvalid, "body"},
      {"timeout_ms boolean", Submit, Cmd(R"(,"timeout_ms":true)"), kInvalid, "timeout_ms"},
      {"not_before a number", Submit, Cmd(R"(,"not_before":1735689600000)"), kInvalid,
       "not_before"},
      {"not_before not a time", Submit, Cmd(R"(,"not_before":"tomorrow")"), kInvalid, "not_before"},
      {"not_before no zone", Submit, Cmd(R"(,"not_before":"2025-01-01T00:00:00")"), kInvalid,
       "not_before"},
      {"not_before 30 February", Submit, Cmd(R"(,"not_before":"2025-02-30T00:00:00Z")"), kInvalid,
       "not_before"},
      {"both payloads", Submit, Cmd(R"(,"payload":1,"payload_b64":"AA==")"), kInvalid, "payload"},
      {"both payloads, b64 first", Submit, Cmd(R"(,"payload_b64":"AA==","payload":1)"), kInvalid,
       "payload"},
      {"bad base64 character", Submit, Cmd(R"(,"payload_b64":"AA*=")"), kInvalid, "payload_b64"},
      {"bad base64 length", Submit, Cmd(R"(,"payload_b64":"AAAAA")"), kInvalid, "payload_b64"},
      {"base64 not a string", Submit, Cmd(R"(,"payload_b64":[1])"), kInvalid, "payload_b64"},
      {"payload too large", Submit, Cmd(R"(,"payload":")" + std::string((1 << 20) + 1, 'x') + "\""),
       kTooLarge, "payload"},
      // Batches.
      {"batch not an array", Batch, Cmd(""), kInvalid, "body"},
      {"empty batch", Batch, "[]", kInvalid, "body"},
      {"oversized batch", Batch,
       "[" + Cmd("") + "," + Cmd("") + "," + Cmd("") + "," + Cmd("") + "]", kTooLarge, "body"},
      {"batch item not an object", Batch, "[1]", kInvalid, "item"},
      {"batch item missing key", Batch, R"([{"type":"t"}])", kInvalid, "key"},
      {"truncated batch", Batch, "[" + Cmd(""), kInvalid, "body"},
      // Worker protocol.
      {"lease without types", Lease, R"({"worker":"w"})", kInvalid, "types"},
      {"lease without worker", Lease, R"({"types":["t"]})", kInvalid, "worker"},
      {"lease empty types", Lease, R"({"types":[],"worker":"w"})", kInvalid, "types"},
      {"lease type not a string", Lease, R"({"types":[1],"worker":"w"})", kInvalid, "types"},
      {"lease max zero", Lease, R"({"types":["t"],"worker":"w","max":0})", kInvalid, "max"},
      {"lease max over limit", Lease, R"({"types":["t"],"worker":"w","max":1001})", kInvalid,
       "max"},
      {"lease wait negative", Lease, R"({"types":["t"],"worker":"w","wait_ms":-5})", kInvalid,
       "wait_ms"},
      {"lease unknown field", Lease, R"({"types":["t"],"worker":"w","prio":1})", kInvalid, "prio"},
      {"lease empty worker", Lease, R"({"types":["t"],"worker":""})", kInvalid, "worker"},
      {"lease empty body", Lease, "", kInvalid, "body"},
      {"complete both results", Complete, R"({"lease":"L","result":1,"result_b64":"AA=="})",
       kInvalid, "result"},
      {"complete bad base64", Complete, R"({"lease":"L","result_b64":"%%%"})", kInvalid,
       "result_b64"},
      {"complete truncated", Complete, R"({"lease":"L","result":[1,2)", kInvalid, "body"},
      {"complete without lease", Complete, R"({"result":1})", kInvalid, "lease"},
      {"complete bad lease", Complete, R"({"lease":"a b"})", kInvalid, "lease"},
      {"fail without error", Fail, R"({"lease":"L","retryable":false})", kInvalid, "error"},
      {"fail retryable a string", Fail, R"({"lease":"L","error":"x","retryable":"no"})", kInvalid,
       "retryable"},
      {"fail without lease", Fail, R"({"error":"x"})", kInvalid, "lease"},
      {"heartbeat lease_ms too long", Heartbeat, R"({"lease_ms":3600001})", kInvalid, "lease_ms"},
      {"heartbeat not an object", Heartbeat, "[]", kInvalid, "body"},
      // Query strings and paths.
      {"bad cursor", Query, "cursor=xyz", kInvalid, "cursor"},
      {"cursor uppercase", Query, "cursor=00000000000000FF", kInvalid, "cursor"},
      {"bad state", Query, "state=done", kInvalid, "state"},
      {"state none", Query, "state=none", kInvalid, "state"},
      {"limit zero", Query, "limit=0", kInvalid, "limit"},
      {"limit too big", Query, "limit=1001", kInvalid, "limit"},
      {"limit not a number", Query, "limit=ten", kInvalid, "limit"},
      {"limit negative", Query, "limit=-1", kInvalid, "limit"},
      {"unknown parameter", Query, "color=red", kInvalid, "color"},
      {"repeated parameter", Query, "key=a&key=b", kInvalid, "key"},
      {"bad percent escape", Query, "key=a%zz", kInvalid, "key"},
      {"percent-encoded bad utf-8", Query, "key=%ff", kInvalid, "key"},
      {"id too short", Id, "abc", kInvalid, "id"},
      {"id not hex", Id, "000000000000000g", kInvalid, "id"},
      {"id zero", Id, "0000000000000000", kInvalid, "id"},
      {"lease token with slash", LeaseId, "a/b", kInvalid, "lease"},
      {"lease token empty", LeaseId, "", kInvalid, "lease"},
      // POST /v1/completions with a lease (the object form).
      {"completions object empty", CompleteAndLease, "{}", kInvalid, "body"},
      {"completions no lease and no outcomes", CompleteAndLease, R"({"outcomes":[]})", kInvalid,
       "outcomes"},
      {"completions outcomes not an array", CompleteAndLease, R"({"outcomes":{}})", kInvalid,
       "outcomes"},
      {"completions too many outcomes", CompleteAndLease,
       R"({"outcomes":[{"id":"00000000000000ff","lease":"a"},{"id":"00000000000000ff","lease":"a"},)"
       R"({"id":"00000000000000ff","lease":"a"}]})",
       kTooLarge, "outcomes"},
      {"completions unknown member", CompleteAndLease, R"({"outcomes":[],"next":1})", kInvalid,
       "next"},
      {"completions lease not an object", CompleteAndLease, R"({"lease":[]})", kInvalid, "lease"},
      {"completions lease without types", CompleteAndLease, R"({"lease":{"worker":"w"}})", kInvalid,
       "lease.types"},
      {"completions lease max zero", CompleteAndLease,
       R"({"lease":{"types":["t"],"worker":"w","max":0}})", kInvalid, "lease.max"},
      {"completions lease unknown member", CompleteAndLease,
       R"({"lease":{"types":["t"],"worker":"w","x":1}})", kInvalid, "lease.x"},
      {"completions item without lease", CompleteAndLease,
       R"({"outcomes":[{"id":"00000000000000ff"}],"lease":{"types":["t"],"worker":"w"}})", kInvalid,
       "lease"},
      {"completions object truncated", CompleteAndLease, R"({"outcomes":[)", kInvalid, "body"},
  };
}

TEST(BadInput, EachIsRefusedWithItsCodeAndField) {
  const auto table = Table();
  ASSERT_GE(table.size(), 40u);
  for (const BadInput& bad : table) {
    const Status s = bad.parse(bad.input);
    EXPECT_EQ(s.code(), bad.code) << bad.name << ": " << s.ToString();
    EXPECT_EQ(s.field(), bad.field) << bad.name << ": " << s.ToString();
    EXPECT_FALSE(s.message().empty()) << bad.name;
  }
}

const char kValidSubmit[] =
    R"({"type":"email.send","key":"user-1","payload":{"to":"a@b.c","n":[1,-2.5e3,true,null]},)"
    R"("idempotency_key":"k","headers":{"h":"v"},"not_before":"2025-06-01T12:00:00Z",)"
    R"("max_attempts":5,"timeout_ms":1500})";

TEST(BadInput, EveryTruncationOfASubmitIsABodyError) {
  const std::string_view valid = kValidSubmit;
  ASSERT_TRUE(ParseSubmit(valid, SubmitLimits{}).has_value());
  for (size_t n = 0; n < valid.size(); ++n) {
    auto r = ParseSubmit(valid.substr(0, n), SubmitLimits{});
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().code(), kInvalid) << n;
    EXPECT_EQ(r.error().field(), "body") << "truncated at " << n << ": " << r.error().ToString();
  }
}

TEST(BadInput, EveryTruncationOfABatchIsABodyError) {
  const std::string valid = std::string("[") + kValidSubmit + "," + kValidSubmit + "]";
  ASSERT_TRUE(ParseSubmitBatch(valid, SubmitLimits{}).has_value());
  for (size_t n = 0; n < valid.size(); ++n) {
    auto r = ParseSubmitBatch(std::string_view(valid).substr(0, n), SubmitLimits{});
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().field(), "body") << "truncated at " << n << ": " << r.error().ToString();
  }
}

TEST(BadInput, EveryTruncationOfALeaseIsABodyError) {
  const std::string_view valid =
      R"({"types":["a","b"],"max":10,"wait_ms":100,"worker":"w-1","lease_ms":30000})";
  ASSERT_TRUE(ParseLeaseRequest(valid, LeaseLimits{}).has_value());
  for (size_t n = 0; n < valid.size(); ++n) {
    auto r = ParseLeaseRequest(valid.substr(0, n), LeaseLimits{});
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().field(), "body") << "truncated at " << n << ": " << r.error().ToString();
  }
}

// Random bytes, and random mutations of valid bodies, must never crash or hang a parser.
TEST(BadInput, FuzzNeverCrashes) {
  std::mt19937_64 rng(20250101);
  const std::string seeds[] = {kValidSubmit, std::string("[") + kValidSubmit + "]",
                               R"({"types":["a"],"worker":"w"})", R"({"result":{"a":[1]}})"};
  std::string body;
  size_t accepted = 0;
  for (int i = 0; i < 20'000; ++i) {
    if (i % 2 == 0) {
      body.resize(rng() % 96);
      for (char& c : body) c = static_cast<char>(rng());
    } else {
      body = seeds[rng() % std::size(seeds)];
      for (int m = 0; m < 1 + static_cast<int>(rng() % 4); ++m) {
        body[rng() % body.size()] = static_cast<char>("{}[]\":,0-e.tn\\ \xff"[rng() % 17]);
      }
    }
    accepted += ParseSubmit(body, SubmitLimits{}).has_value();
    accepted += ParseSubmitBatch(body, SubmitLimits{}).has_value();
    accepted += ParseLeaseRequest(body, LeaseLimits{}).has_value();
    accepted += ParseComplete(body, LeaseLimits{}).has_value();
    accepted += ParseListQuery(body).has_value();
  }
  EXPECT_LT(accepted, 100'000u);
}

}  // namespace
}  // namespace cmdq::protocol
