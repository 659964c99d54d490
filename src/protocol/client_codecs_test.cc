// The client's codecs against the server's: what request_writer writes, the server's
// parsers read back; what the server's writers write, response_reader reads back.
#include <gtest/gtest.h>

#include "protocol/query_parser.h"
#include "protocol/record_writer.h"
#include "protocol/request_writer.h"
#include "protocol/response_reader.h"
#include "protocol/response_writer.h"
#include "protocol/submit_parser.h"
#include "protocol/worker_parser.h"

namespace cmdq::protocol {
namespace {

Record FullRecord() {
  Record r;
  r.command.id = CommandId(0x0123456789abcdef);
  r.command.type = "email.send";
  r.command.key = "user-1";
  r.command.payload = R"({"to":"a@b.c"})";
  r.command.payload_is_json = true;
  r.command.idempotency_key = "idem-1";
  r.command.headers = {{"trace", "t\"1"}, {"b", ""}};
  r.command.not_before_us = 1'735'689'600'000'001;
  r.command.max_attempts = 3;
  r.command.timeout_ms = 250;
  r.command.created_at_us = 1'735'689'600'000'000;
  r.state = State::kRunning;
  r.attempt = 2;
  r.lease_worker = "w1";
  r.lease_expires_us = 1'735'689'601'000'000;
  r.result = "[1,2]";
  r.error = "boom";
  r.next_attempt_us = 1'735'689'602'000'000;
  r.updated_at_us = 1'735'689'600'250'000;
  return r;
}

void ExpectSameRecord(const Record& a, const Record& b) { EXPECT_EQ(RecordJson(a), RecordJson(b)); }

TEST(ResponseReader, ReadsBackEveryRecordField) {
  const Record r = FullRecord();
  auto back = ParseRecordJson(RecordJson(r));
  ASSERT_TRUE(back) << back.error().ToString();
  ExpectSameRecord(*back, r);
  EXPECT_EQ(back->command.headers, r.command.headers);
  EXPECT_TRUE(back->command.payload_is_json);
}

TEST(ResponseReader, ReadsBytesThatCameAsBase64) {
  Record r = FullRecord();
  r.command.payload = std::string("\x00\xff", 2);
  r.command.payload_is_json = false;
  r.result = std::string("\x01", 1);
  auto back = ParseRecordJson(RecordJson(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->command.payload, r.command.payload);
  EXPECT_FALSE(back->command.payload_is_json);
  EXPECT_EQ(back->result, r.result);
}

TEST(ResponseReader, SkipsMembersItDoesNotKnow) {
  auto back = ParseRecordJson(R"({"id":"0123456789abcdef","new_field":{"a":[1]},"state":"dead"})");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->state, State::kDead);
}

TEST(ResponseReader, MalformedAnswerIsCorruption) {
  for (std::string_view body : {"", "[1]", R"({"id":"zz"})", R"({"state":"nope"})", "{"}) {
    auto back = ParseRecordJson(body);
    ASSERT_FALSE(back) << body;
    EXPECT_EQ(back.error().code(), StatusCode::kCorruption) << body;
  }
}

TEST(ResponseReader, ReadsAListPageAndItsCursor) {
  ListPage page;
  page.records = {FullRecord(), FullRecord()};
  page.next_cursor = CommandId(42);
  auto back = ParseListPageJson(ListPageJson(page));
  ASSERT_TRUE(back) << back.error().ToString();
  ASSERT_EQ(back->records.size(), 2u);
  EXPECT_EQ(back->next_cursor, CommandId(42));
  page.next_cursor = CommandId();
  back = ParseListPageJson(ListPageJson(page));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->next_cursor.valid());
}

TEST(ResponseReader, ReadsAnAuditTrail) {
  std::vector<AuditEvent> events(2);
  events[0] = {.id = CommandId(7),
               .sequence = 0,
               .time_us = 1'735'689'600'000'000,
               .from = State::kNone,
               .to = State::kPending};
  events[1] = {.id = CommandId(7),
               .sequence = 1,
               .time_us = 1'735'689'600'000'001,
               .from = State::kPending,
               .to = State::kRunning,
               .attempt = 1,
               .worker = "w",
               .message = "m"};
  auto back = ParseAuditJson(AuditJson(events), CommandId(7));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(AuditJson(*back), AuditJson(events));
}

TEST(ResponseReader, ReadsLeases) {
  Lease lease{.token = "tok-1", .record = FullRecord(), .deadline_us = 1'735'689'609'000'000};
  auto back = ParseLeasesJson(LeasesJson(std::span(&lease, 1)));
  ASSERT_TRUE(back) << back.error().ToString();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].token, "tok-1");
  EXPECT_EQ((*back)[0].deadline_us, lease.deadline_us);
  EXPECT_EQ((*back)[0].record.attempt, 2u);
  EXPECT_EQ((*back)[0].record.command.payload, lease.record.command.payload);
  EXPECT_EQ((*back)[0].record.command.id, lease.record.command.id);
}

TEST(ResponseReader, ReadsCompletionResultsLeasesAndTheLeaseError) {
  Lease lease{.token = "tok-2", .record = FullRecord(), .deadline_us = 1'735'689'609'000'000};
  std::vector<LeaseView> views = {{.token = lease.token,
                                   .command = &lease.record.command,
                                   .timeout_ms = 5,
                                   .attempt = 2,
                                   .deadline_us = lease.deadline_us}};
  std::vector<Result<CommandId>> results = {
      CommandId(1), Error(Status(StatusCode::kNotFound, "no such lease", "lease"))};
  auto back = ParseCompletionsAndLeasesJson(CompletionsAndLeasesJson(results, views, Status::Ok()));
  ASSERT_TRUE(back) << back.error().ToString();
  ASSERT_EQ(back->results.size(), 2u);
  EXPECT_TRUE(back->results[0].ok());
  EXPECT_EQ(back->results[1].code(), StatusCode::kNotFound);
  ASSERT_EQ(back->leases.size(), 1u);
  EXPECT_EQ(back->leases[0].token, "tok-2");
  EXPECT_EQ(back->leases[0].record.command.payload, lease.record.command.payload);
  EXPECT_TRUE(back->lease_error.ok());
  const Status refused = Status::InvalidArgument("types", "unknown type x");
  auto failed = ParseCompletionsAndLeasesJson(CompletionsAndLeasesJson(results, {}, refused));
  ASSERT_TRUE(failed) << failed.error().ToString();
  EXPECT_TRUE(failed->leases.empty());
  EXPECT_EQ(failed->lease_error, refused);
}

TEST(ResponseReader, ReadsBatchResultsInOrder) {
  std::vector<Result<CommandId>> results = {
      CommandId(1), Error(Status::InvalidArgument("type", "bad type")), CommandId(3)};
  auto back = ParseBatchResultsJson(BatchResultsJson(results));
  ASSERT_TRUE(back) << back.error().ToString();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ(*(*back)[0], CommandId(1));
  EXPECT_EQ((*back)[1].error(), Status::InvalidArgument("type", "bad type"));
  EXPECT_EQ(*(*back)[2], CommandId(3));
}

TEST(ResponseReader, TellsARecordFromAnErrorInABatchWithWait) {
  const std::string body = "{\"results\":[" + RecordJson(FullRecord()) + "," +
                           ErrorJson(Status::NotFound("no such type")) + "]}";
  auto back = ParseBatchRecordsJson(body);
  ASSERT_TRUE(back) << back.error().ToString();
  ASSERT_EQ(back->size(), 2u);
  ASSERT_TRUE((*back)[0]);
  EXPECT_EQ((*back)[0]->error, "boom");  // a record's "error" is its last error
  EXPECT_EQ((*back)[1].error().code(), StatusCode::kNotFound);
}

TEST(ResponseReader, ErrorBodiesCarryCodeMessageAndField) {
  const Status s(StatusCode::kResourceExhausted, "too big", "payload");
  EXPECT_EQ(ParseErrorJson(ErrorJson(s), 413), s);
}

TEST(ResponseReader, ErrorsWithoutAJsonBodyFollowTheHttpStatus) {
  EXPECT_EQ(ParseErrorJson("<html>bad gateway</html>", 502).code(), StatusCode::kUnavailable);
  EXPECT_EQ(ParseErrorJson("", 404).code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseErrorJson("", 429).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ParseErrorJson("", 429).field(), "");
  EXPECT_EQ(ParseErrorJson("", 413).field(), "body");
  EXPECT_EQ(ParseErrorJson("", 401).code(), StatusCode::kUnauthenticated);
  const Status denied(StatusCode::kPermissionDenied, "no work scope");
  EXPECT_EQ(ParseErrorJson(ErrorJson(denied), 403), denied);
  // A code from a newer server: the HTTP status decides, the name stays in the message.
  const Status unknown = ParseErrorJson(R"({"error":{"code":"TEAPOT","message":"short"}})", 418);
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("TEAPOT"), std::string::npos);
}

TEST(RequestWriter, TheServerReadsBackASubmit) {
  Command c = FullRecord().command;
  auto back = ParseSubmit(SubmitJson(c), SubmitLimits{});
  ASSERT_TRUE(back) << back.error().ToString();
  c.id = CommandId();
  c.created_at_us = 0;
  EXPECT_EQ(SubmitJson(*back), SubmitJson(c));
}

TEST(RequestWriter, LeavesOutWhatIsNotSet) {
  Command c{.type = "t", .key = "k"};
  EXPECT_EQ(SubmitJson(c), R"({"type":"t","key":"k"})");
  c.payload = "\x01";
  EXPECT_EQ(SubmitJson(c), R"({"type":"t","key":"k","payload_b64":"AQ=="})");
}

TEST(RequestWriter, TheServerReadsBackABatch) {
  std::vector<Command> batch = {{.type = "a", .key = "1"}, {.type = "b", .key = "2"}};
  auto back = ParseSubmitBatch(SubmitBatchJson(batch), SubmitLimits{});
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1]->type, "b");
}

TEST(RequestWriter, TheServerReadsBackALeaseRequest) {
  LeaseRequest request{
      .types = {"a", "b"}, .max = 10, .wait_ms = 500, .worker = "w", .lease_ms = 3000};
  auto back = ParseLeaseRequest(LeaseRequestJson(request), LeaseLimits{});
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->types, request.types);
  EXPECT_EQ(back->max, 10u);
  EXPECT_EQ(back->wait_ms, 500u);
  EXPECT_EQ(back->lease_ms, 3000u);
}

TEST(RequestWriter, OutcomesCarryTheLeaseAndPickJsonOrBase64) {
  WorkerOutcome ok{.id = CommandId(1), .lease = "L", .result = "{\"a\":1}\n"};
  EXPECT_EQ(OutcomeJson(ok), R"({"lease":"L","result":{"a":1}})");
  ok.result = "plain text";
  EXPECT_EQ(OutcomeJson(ok), R"({"lease":"L","result_b64":"cGxhaW4gdGV4dA=="})");
  ok.result.clear();
  EXPECT_EQ(OutcomeJson(ok), R"({"lease":"L"})");
  WorkerOutcome failed{
      .id = CommandId(2), .lease = "M", .succeeded = false, .error = "e", .retryable = false};
  EXPECT_EQ(OutcomesJson(std::vector{failed}),
            R"([{"id":"0000000000000002","lease":"M","error":"e","retryable":false}])");
}

TEST(RequestWriter, TheServerReadsBackAListQuery) {
  ListQuery query{.key = "user 1&x=%",
                  .state = State::kDead,
                  .type = "a.b",
                  .before = CommandId(99),
                  .limit = 7};
  const std::string text = ListQueryString(query);
  EXPECT_EQ(text, "key=user%201%26x%3D%25&state=dead&type=a.b&cursor=0000000000000063&limit=7");
  auto back = ParseListQuery(text);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->key, query.key);
  EXPECT_EQ(back->state, query.state);
  EXPECT_EQ(back->before, query.before);
  EXPECT_EQ(back->limit, 7u);
  EXPECT_EQ(ListQueryString(ListQuery{}), "");
}

TEST(RequestWriter, TheServerReadsBackOutcomes) {
  const WorkerOutcome done{.id = CommandId(1), .lease = "L1", .result = "[1]"};
  const WorkerOutcome failed{
      .id = CommandId(2), .lease = "L2", .succeeded = false, .error = "e", .retryable = false};
  auto complete = ParseComplete(OutcomeJson(done), LeaseLimits{});
  ASSERT_TRUE(complete) << complete.error().ToString();
  EXPECT_EQ(complete->lease, "L1");
  EXPECT_EQ(complete->result, "[1]");
  auto fail = ParseFail(OutcomeJson(failed), LeaseLimits{});
  ASSERT_TRUE(fail) << fail.error().ToString();
  EXPECT_EQ(fail->lease, "L2");
  EXPECT_FALSE(fail->retryable);
  auto batch = ParseCompletions(OutcomesJson(std::vector{done, failed}), LeaseLimits{});
  ASSERT_TRUE(batch) << batch.error().ToString();
  ASSERT_EQ(batch->size(), 2u);
  ASSERT_TRUE((*batch)[0]);
  EXPECT_EQ((*batch)[0]->id, CommandId(1));
  EXPECT_TRUE(std::holds_alternative<CompleteRequest>((*batch)[0]->outcome));
  ASSERT_TRUE((*batch)[1]);
  EXPECT_EQ(std::get<FailRequest>((*batch)[1]->outcome).error, "e");
}

TEST(RequestWriter, TheServerReadsBackOutcomesWithALease) {
  const WorkerOutcome done{.id = CommandId(1), .lease = "L1", .result = "[1]"};
  const LeaseRequest next{.types = {"a"}, .max = 20, .wait_ms = 0, .worker = "w", .lease_ms = 0};
  auto both = ParseCompletionsRequest(OutcomesAndLeaseJson(std::vector{done}, next), LeaseLimits{});
  ASSERT_TRUE(both) << both.error().ToString();
  ASSERT_EQ(both->items.size(), 1u);
  EXPECT_EQ(both->items[0]->id, CommandId(1));
  ASSERT_TRUE(both->lease);
  EXPECT_EQ(both->lease->max, 20u);
  EXPECT_EQ(both->lease->worker, "w");
  auto lease_only = ParseCompletionsRequest(OutcomesAndLeaseJson({}, next), LeaseLimits{});
  ASSERT_TRUE(lease_only) << lease_only.error().ToString();
  EXPECT_TRUE(lease_only->items.empty());
}

TEST(RequestWriter, HeartbeatLeavesOutTheDefaultLength) {
  EXPECT_EQ(HeartbeatJson(0), "{}");
  EXPECT_EQ(HeartbeatJson(5000), R"({"lease_ms":5000})");
}

}  // namespace
}  // namespace cmdq::protocol
