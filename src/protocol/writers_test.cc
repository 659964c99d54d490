#include <gtest/gtest.h>

#include "protocol/json_reader.h"
#include "protocol/record_writer.h"
#include "protocol/response_writer.h"

namespace cmdq::protocol {
namespace {

Record SampleRecord() {
  Record r;
  r.command.id = CommandId(0x0123456789abcdef);
  r.command.type = "email.send";
  r.command.key = "user-1";
  r.command.payload = R"({"to":"a@b.c"})";
  r.command.payload_is_json = true;
  r.command.headers = {{"trace", "t\"1"}};
  r.command.max_attempts = 3;
  r.command.created_at_us = 1'735'689'600'000'000;
  r.state = State::kSucceeded;
  r.attempt = 1;
  r.result = "[1,2]";
  r.updated_at_us = 1'735'689'600'250'000;
  return r;
}

TEST(RecordJson, WritesEveryField) {
  EXPECT_EQ(RecordJson(SampleRecord()),
            R"({"id":"0123456789abcdef","type":"email.send","key":"user-1",)"
            R"("payload":{"to":"a@b.c"},"idempotency_key":null,"headers":{"trace":"t\"1"},)"
            R"("not_before":null,"max_attempts":3,"timeout_ms":0,"state":"succeeded",)"
            R"("attempt":1,"worker":null,"lease_expires_at":null,"result":[1,2],"error":null,)"
            R"("next_attempt_at":null,"created_at":"2025-01-01T00:00:00.000000Z",)"
            R"("updated_at":"2025-01-01T00:00:00.250000Z"})");
}

TEST(RecordJson, BytesThatAreNotJsonGoAsBase64) {
  Record r = SampleRecord();
  r.command.payload = std::string("\x00\xff", 2);
  r.command.payload_is_json = false;
  r.result = "plain text";
  const std::string json = RecordJson(r);
  EXPECT_NE(json.find(R"("payload_b64":"AP8=")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("result_b64":"cGxhaW4gdGV4dA==")"), std::string::npos) << json;
  EXPECT_TRUE(json::IsJsonText(json));
}

TEST(RecordJson, AJsonFlagOnBytesThatAreNotJsonIsNotTrusted) {
  Record r = SampleRecord();
  r.command.payload = "{not json";
  r.result.clear();
  const std::string json = RecordJson(r);
  EXPECT_NE(json.find(R"("payload_b64":"e25vdCBqc29u")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("result":null)"), std::string::npos) << json;
  EXPECT_TRUE(json::IsJsonText(json));
}

TEST(ListPageJson, HasRecordsAndCursor) {
  ListPage page;
  EXPECT_EQ(ListPageJson(page), R"({"records":[],"next_cursor":null})");
  page.records = {SampleRecord(), SampleRecord()};
  page.next_cursor = CommandId(0xff);
  const std::string json = ListPageJson(page);
  EXPECT_TRUE(json::IsJsonText(json));
  EXPECT_NE(json.find(R"(},{"id")"), std::string::npos);
  EXPECT_NE(json.find(R"("next_cursor":"00000000000000ff"})"), std::string::npos);
}

TEST(AuditJson, WritesEvents) {
  std::vector<AuditEvent> events(2);
  events[0] = {CommandId(1), 0, 1'735'689'600'000'000, State::kNone, State::kPending, 0, "", ""};
  events[1] = {CommandId(1), 1,      1'735'689'600'000'001, State::kPending, State::kRunning, 1,
               "w1",         "lease"};
  EXPECT_EQ(AuditJson(events),
            R"({"events":[{"seq":0,"time":"2025-01-01T00:00:00.000000Z","from":null,)"
            R"("to":"pending","attempt":0,"worker":null,"message":null},)"
            R"({"seq":1,"time":"2025-01-01T00:00:00.000001Z","from":"pending","to":"running",)"
            R"("attempt":1,"worker":"w1","message":"lease"}]})");
}

TEST(ErrorJson, NamesCodeMessageAndField) {
  EXPECT_EQ(ErrorJson(Status::InvalidArgument("type", "type is required")),
            R"({"error":{"code":"INVALID_ARGUMENT","message":"type is required","field":"type"}})");
  EXPECT_EQ(ErrorJson(Status::NotFound("no command 1")),
            R"({"error":{"code":"NOT_FOUND","message":"no command 1"}})");
}

TEST(HttpStatus, MapsEveryCode) {
  EXPECT_EQ(HttpStatus(Status::Ok()), 200);
  EXPECT_EQ(HttpStatus(Status::InvalidArgument("f", "m")), 400);
  EXPECT_EQ(HttpStatus(Status::Unauthenticated("m")), 401);
  EXPECT_EQ(HttpStatus(Status::PermissionDenied("m")), 403);
  EXPECT_EQ(HttpStatus(Status::NotFound("m")), 404);
  EXPECT_EQ(HttpStatus(Status(StatusCode::kAlreadyExists, "m")), 409);
  EXPECT_EQ(HttpStatus(Status::FailedPrecondition("m")), 409);
  EXPECT_EQ(HttpStatus(Status::ResourceExhausted("rate")), 429);
  EXPECT_EQ(HttpStatus(Status(StatusCode::kResourceExhausted, "big", "payload")), 413);
  EXPECT_EQ(HttpStatus(Status::DeadlineExceeded("m")), 504);
  EXPECT_EQ(HttpStatus(Status(StatusCode::kCancelled, "m")), 503);
  EXPECT_EQ(HttpStatus(Status::Unavailable("m")), 503);
  EXPECT_EQ(HttpStatus(Status::Corruption("m")), 500);
  EXPECT_EQ(HttpStatus(Status(StatusCode::kIoError, "m")), 500);
  EXPECT_EQ(HttpStatus(Status::Internal("m")), 500);
  EXPECT_EQ(HttpStatus(Status(static_cast<StatusCode>(200), "m")), 500);
}

TEST(BatchResultsJson, MixesIdsAndErrors) {
  std::vector<Result<CommandId>> results;
  results.push_back(CommandId(2));
  results.push_back(Error(Status::InvalidArgument("key", "key is required")));
  EXPECT_EQ(BatchResultsJson(results),
            R"({"results":[{"id":"0000000000000002"},)"
            R"({"error":{"code":"INVALID_ARGUMENT","message":"key is required","field":"key"}}]})");
  EXPECT_EQ(SubmitResultJson(CommandId(2)), R"({"id":"0000000000000002"})");
}

TEST(LeasesJson, WritesWhatAWorkerNeeds) {
  std::vector<Lease> leases;
  EXPECT_EQ(LeasesJson(leases), R"({"leases":[]})");
  leases.push_back({"L1", SampleRecord(), 1'735'689'630'000'000});
  EXPECT_EQ(LeasesJson(leases),
            R"({"leases":[{"lease":"L1","id":"0123456789abcdef","type":"email.send",)"
            R"("key":"user-1","payload":{"to":"a@b.c"},"headers":{"trace":"t\"1"},)"
            R"("timeout_ms":0,"attempt":1,"deadline":"2025-01-01T00:00:30.000000Z"}]})");
}

}  // namespace
}  // namespace cmdq::protocol
