// The Client's logic over a scripted transport: routes, retries, error mapping.
#include <gtest/gtest.h>

#include <deque>

#include "client/client_impl.h"
#include "protocol/response_writer.h"

namespace cmdq::client {
namespace {

using std::chrono::milliseconds;

struct Script {
  std::deque<Exchange> answers;     // what the next tries get, in order
  std::vector<HttpRequest> sent;    // what the client sent
  std::vector<milliseconds> slept;  // the client's waits between tries
};

class FakeTransport : public HttpTransport {
 public:
  explicit FakeTransport(Script& script) : script_(script) {}
  Exchange RoundTrip(const HttpRequest& request) override {
    script_.sent.push_back(request);
    if (script_.answers.empty()) return HttpResponse{.status = 500, .body = "script ran out"};
    Exchange next = std::move(script_.answers.front());
    script_.answers.pop_front();
    return next;
  }

 private:
  Script& script_;
};

HttpResponse Answer(int status, std::string body, std::optional<std::string> retry_after = {}) {
  return HttpResponse{.status = status, .body = std::move(body), .retry_after = retry_after};
}

Exchange Broken(bool may_have_arrived) {
  return std::unexpected(TransportError{Status::Unavailable("connection reset"), may_have_arrived});
}

std::unique_ptr<Client> MakeClient(Script& script, ClientOptions options = {}) {
  options.retry.jitter = 0;
  auto client = NewClientWithTransport(std::move(options), std::make_unique<FakeTransport>(script),
                                       [&script](milliseconds d) { script.slept.push_back(d); });
  EXPECT_TRUE(client);
  return std::move(*client);
}

Command SomeCommand() {
  return Command{.type = "t", .key = "k", .payload = "{}", .payload_is_json = true};
}

TEST(Client, SubmitPostsTheCommandAndReadsItsId) {
  Script script;
  script.answers.push_back(Answer(200, R"({"id":"0000000000000007"})"));
  auto client = MakeClient(script);
  auto id = client->Submit(SomeCommand());
  ASSERT_TRUE(id) << id.error().ToString();
  EXPECT_EQ(*id, CommandId(7));
  ASSERT_EQ(script.sent.size(), 1u);
  EXPECT_EQ(script.sent[0].method, "POST");
  EXPECT_EQ(script.sent[0].target, "/v1/commands");
  EXPECT_NE(script.sent[0].body.find(R"("idempotency_key":"cmdq-)"), std::string::npos);
}

TEST(Client, ARetriedSubmitSendsTheSameIdempotencyKey) {
  Script script;
  script.answers.push_back(
      Answer(429, R"({"error":{"code":"RESOURCE_EXHAUSTED","message":"slow down"}})", "2"));
  script.answers.push_back(Answer(503, "", {}));
  script.answers.push_back(Broken(true));
  script.answers.push_back(Answer(200, R"({"id":"0000000000000009"})"));
  auto client = MakeClient(script);
  auto id = client->Submit(SomeCommand());
  ASSERT_TRUE(id) << id.error().ToString();
  ASSERT_EQ(script.sent.size(), 4u);
  for (const HttpRequest& r : script.sent) EXPECT_EQ(r.body, script.sent[0].body);
  // Retry-After (2 s) for the 429, then the backoff: 50 ms, 100 ms.
  EXPECT_EQ(script.slept, (std::vector{milliseconds(2000), milliseconds(100), milliseconds(200)}));
}

TEST(Client, EverySubmitGetsItsOwnKeyButAGivenKeyIsKept) {
  Script script;
  for (int i = 0; i < 2; ++i) script.answers.push_back(Answer(200, R"({"id":"0000000000000001"})"));
  script.answers.push_back(Answer(200, R"({"results":[{"id":"0000000000000002"}]})"));
  auto client = MakeClient(script);
  ASSERT_TRUE(client->Submit(SomeCommand()));
  ASSERT_TRUE(client->Submit(SomeCommand()));
  EXPECT_NE(script.sent[0].body, script.sent[1].body);
  Command mine = SomeCommand();
  mine.idempotency_key = "mine";
  ASSERT_TRUE(client->SubmitBatch({mine}));
  EXPECT_NE(script.sent[2].body.find(R"("idempotency_key":"mine")"), std::string::npos);
}

TEST(Client, GivesUpAfterMaxRetriesWithTheServersError) {
  Script script;
  for (int i = 0; i < 3; ++i) {
    script.answers.push_back(
        Answer(503, R"({"error":{"code":"UNAVAILABLE","message":"draining"}})"));
  }
  ClientOptions options;
  options.retry.max_retries = 2;
  auto client = MakeClient(script, options);
  auto record = client->Get(CommandId(1));
  ASSERT_FALSE(record);
  EXPECT_EQ(record.error(), Status::Unavailable("draining"));
  EXPECT_EQ(script.sent.size(), 3u);
}

TEST(Client, RefusalsAreNotRetriedAndKeepTheirField) {
  Script script;
  script.answers.push_back(
      Answer(400, protocol::ErrorJson(Status::InvalidArgument("type", "unknown type"))));
  auto client = MakeClient(script);
  auto id = client->Submit(SomeCommand());
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error(), Status::InvalidArgument("type", "unknown type"));
  EXPECT_EQ(script.sent.size(), 1u);
}

TEST(Client, ActionsAreRepeatedOnlyWhenTheServerCannotHaveSeenThem) {
  Script script;
  script.answers.push_back(Broken(false));  // no connection: safe to send again
  script.answers.push_back(Answer(200, "{}"));
  script.answers.push_back(Broken(true));  // reset after sending: may have cancelled
  auto client = MakeClient(script);
  EXPECT_TRUE(client->Cancel(CommandId(5)).ok());
  EXPECT_EQ(client->Cancel(CommandId(5)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(script.sent.size(), 3u);
  EXPECT_EQ(script.sent[0].target, "/v1/commands/0000000000000005/cancel");
}

TEST(Client, WaitAsksTheServerToHoldAndAllowsForIt) {
  Script script;
  script.answers.push_back(Answer(200, R"({"id":"0000000000000003","state":"succeeded"})"));
  ClientOptions options;
  options.target = "http://h:1/prefix";
  options.request_timeout = milliseconds(1000);
  auto client = MakeClient(script, options);
  auto record = client->Wait(CommandId(3), milliseconds(2000));
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, State::kSucceeded);
  EXPECT_EQ(script.sent[0].target, "/prefix/v1/commands/0000000000000003?wait=2000ms");
  EXPECT_EQ(script.sent[0].timeout, milliseconds(3000));
}

TEST(Client, ListSendsTheQueryAndReadsThePage) {
  Script script;
  script.answers.push_back(
      Answer(200, R"({"records":[{"id":"0000000000000004"}],"next_cursor":null})"));
  auto client = MakeClient(script);
  auto page = client->List(ListQuery{.key = "u 1", .limit = 10});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(script.sent[0].target, "/v1/commands?key=u%201&limit=10");
}

TEST(Client, LeaseIsNotRepeatedOnceItMayHaveArrived) {
  Script script;
  script.answers.push_back(Broken(true));
  auto client = MakeClient(script);
  auto leases = client->Lease({.types = {"t"}, .worker = "w"});
  ASSERT_FALSE(leases);
  EXPECT_EQ(script.sent.size(), 1u);
}

TEST(Client, ReportsOutcomesOneByOneAndInBatches) {
  Script script;
  script.answers.push_back(Answer(200, "{}"));
  script.answers.push_back(Answer(
      200,
      R"({"results":[{"id":"0000000000000001"},{"error":{"code":"NOT_FOUND","message":"lease expired","field":"lease"}}]})"));
  script.answers.push_back(Answer(200, R"({"results":[]})"));
  auto client = MakeClient(script);
  LeasedCommand leased{.lease = "L1"};
  leased.record.command.id = CommandId(1);
  EXPECT_TRUE(client->Fail(leased, "boom", false).ok());
  EXPECT_EQ(script.sent[0].target, "/v1/commands/0000000000000001/fail");
  EXPECT_EQ(script.sent[0].body, R"({"lease":"L1","error":"boom","retryable":false})");
  std::vector<WorkerOutcome> outcomes = {{.id = CommandId(1), .lease = "L1"},
                                         {.id = CommandId(2), .lease = "L2"}};
  auto results = client->ReportBatch(outcomes);
  ASSERT_TRUE(results);
  EXPECT_TRUE((*results)[0].ok());
  EXPECT_EQ((*results)[1].code(), StatusCode::kNotFound);
  EXPECT_EQ(script.sent[1].target, "/v1/completions");
  // An answer that does not match the request is the server's fault, not a success.
  EXPECT_EQ(client->ReportBatch(outcomes).error().code(), StatusCode::kCorruption);
}

TEST(Client, ABatchWithWaitReadsRecordsAndErrors) {
  Script script;
  script.answers.push_back(
      Answer(200, R"({"results":[{"id":"0000000000000001","state":"succeeded","error":null},)"
                  R"({"error":{"code":"INVALID_ARGUMENT","message":"bad","field":"key"}}]})"));
  auto client = MakeClient(script);
  auto results = client->SubmitBatchAndWait({SomeCommand(), SomeCommand()}, milliseconds(500));
  ASSERT_TRUE(results) << results.error().ToString();
  EXPECT_EQ(script.sent[0].target, "/v1/commands?wait=500ms");
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ((*results)[0]->state, State::kSucceeded);
  EXPECT_EQ((*results)[1].error().field(), "key");
}

TEST(Client, SendGivesTheServersJsonOrItsError) {
  Script script;
  script.answers.push_back(Answer(200, R"({"anything":1})"));
  script.answers.push_back(Answer(404, R"({"error":{"code":"NOT_FOUND","message":"no route"}})"));
  auto client = MakeClient(script);
  auto ok = client->Send("GET", "/v1/whatever");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->body, R"({"anything":1})");
  auto missing = client->Send("POST", "/v1/nothing", "{}");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST(IdempotencyKeys, AreLongRandomAndSayWhoMadeThem) {
  IdempotencyKeys keys;
  const std::string a = keys.Next();
  EXPECT_EQ(a.size(), 5u + 32u);
  EXPECT_TRUE(a.starts_with("cmdq-"));
  EXPECT_NE(a, keys.Next());
  EXPECT_NE(a, IdempotencyKeys().Next());
}

}  // namespace
}  // namespace cmdq::client
