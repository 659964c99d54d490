// `cmdq serve` driven with raw HTTP/1.1 over a socket (issue 4 item 10, "Bad input"): the
// routes, the remote worker protocol with lease expiry, pipelining, the server's limits and
// timeouts, a table of bad requests, and SIGTERM with a restart on the same data directory.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <thread>

#include "common/raw_http.h"
#include "e2e/client_e2e_support.h"

namespace cmdq::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The text of `"name":"..."` in compact JSON from `from` on; empty when absent.
std::string JsonString(const std::string& json, std::string_view name, size_t from = 0) {
  const std::string needle = "\"" + std::string(name) + "\":\"";
  const size_t at = json.find(needle, from);
  if (at == std::string::npos) return {};
  const size_t begin = at + needle.size();
  return json.substr(begin, json.find('"', begin) - begin);
}

size_t Count(const std::string& text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The server of one test: small limits so that each can be hit quickly.
std::unique_ptr<ServedCmdq> StartServer() {
  auto served = ServedCmdq::Start(
      {"t.remote", "t.expire", "t.idle", "t.bad"},
      {"--request-timeout-ms", "400", "--max-body-bytes", "65536", "--max-batch", "10",
       "--max-wait-ms", "5000", "--lease-ms", "30000", "--drain-ms", "1000"});
  EXPECT_TRUE(served) << served.error().ToString();
  return served ? std::move(*served) : nullptr;
}

// RFC 3339, UTC.
std::string AnHourFromNow() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + 1h);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string Submit(RawHttp& http, std::string_view type, std::string_view key,
                   std::string_view payload = "1") {
  Reply r = http.Call("POST", "/v1/commands",
                      R"({"type":")" + std::string(type) + R"(","key":")" + std::string(key) +
                          R"(","payload":)" + std::string(payload) + "}");
  EXPECT_EQ(r.status, 200) << r.body;
  return JsonString(r.body, "id");
}

class ServerE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartServer();
    ASSERT_NE(server_, nullptr);
    http_ = std::make_unique<RawHttp>(server_->port());
    ASSERT_TRUE(http_->connected());
  }

  std::unique_ptr<ServedCmdq> server_;
  std::unique_ptr<RawHttp> http_;
};

TEST_F(ServerE2e, SubmitGetListAuditCancel) {
  const std::string id = Submit(*http_, "t.idle", "k1", R"({"a":[1,2]})");
  ASSERT_EQ(id.size(), 16u);

  Reply batch = http_->Call("POST", "/v1/commands",
                            R"([{"type":"t.idle","key":"k2"},{"type":"t.nope","key":"k2"},)"
                            R"({"type":"t.idle","key":"k2","payload_b64":"AAEC"}])");
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(Count(batch.body, "\"id\":"), 2u) << batch.body;
  EXPECT_EQ(Count(batch.body, "\"error\":"), 1u) << batch.body;

  Reply got = http_->Call("GET", "/v1/commands/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(JsonString(got.body, "state"), "pending");
  EXPECT_NE(got.body.find(R"("payload":{"a":[1,2]})"), std::string::npos) << got.body;

  Reply list = http_->Call("GET", "/v1/commands?key=k2&limit=10");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(Count(list.body, "\"id\":"), 2u) << list.body;
  EXPECT_NE(list.body.find(R"("payload_b64":"AAEC")"), std::string::npos) << list.body;
  Reply page = http_->Call("GET", "/v1/commands?limit=1");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(Count(page.body, "\"id\":"), 1u);
  const std::string cursor = JsonString(page.body, "next_cursor");
  ASSERT_EQ(cursor.size(), 16u) << page.body;
  Reply rest = http_->Call("GET", "/v1/commands?limit=10&cursor=" + cursor);
  EXPECT_EQ(Count(rest.body, "\"id\":"), 2u) << rest.body;

  // A pending remote command cannot be cancelled yet (reported: the engine keeps it off
  // its partition); a scheduled one can.
  Reply later =
      http_->Call("POST", "/v1/commands",
                  R"({"type":"t.idle","key":"k3","not_before":")" + AnHourFromNow() + R"("})");
  ASSERT_EQ(later.status, 200) << later.body;
  const std::string scheduled = JsonString(later.body, "id");
  Reply cancel = http_->Call("POST", "/v1/commands/" + scheduled + "/cancel");
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(JsonString(cancel.body, "state"), "cancelled");
  Reply again = http_->Call("POST", "/v1/commands/" + scheduled + "/cancel");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(JsonString(again.body, "code"), "FAILED_PRECONDITION");

  Reply audit = http_->Call("GET", "/v1/commands/" + scheduled + "/audit");
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_GE(Count(audit.body, "\"seq\":"), 2u) << audit.body;
  EXPECT_NE(audit.body.find(R"("to":"cancelled")"), std::string::npos) << audit.body;

  EXPECT_EQ(http_->Call("GET", "/v1/commands/00000000000000ff").status, 404);
}

TEST_F(ServerE2e, WaitReturnsTheResultOrTheStateAtTheDeadline) {
  Reply done = http_->Call("POST", "/v1/commands?wait=5s",
                           R"({"type":"cmdq.echo","key":"w","payload":{"x":1}})");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(JsonString(done.body, "state"), "succeeded") << done.body;
  EXPECT_NE(done.body.find(R"("result":{"x":1})"), std::string::npos) << done.body;

  const auto start = Clock::now();
  Reply pending = http_->Call("POST", "/v1/commands?wait=150ms", R"({"type":"t.idle","key":"w"})");
  EXPECT_GE(Clock::now() - start, 140ms);
  ASSERT_EQ(pending.status, 200) << pending.body;
  EXPECT_EQ(JsonString(pending.body, "state"), "pending");

  Reply got = http_->Call("GET", "/v1/commands/" + JsonString(pending.body, "id") + "?wait=50ms");
  EXPECT_EQ(JsonString(got.body, "state"), "pending");

  Reply batch = http_->Call("POST", "/v1/commands?wait=5s",
                            R"([{"type":"cmdq.echo","key":"b","payload":1},)"
                            R"({"type":"cmdq.echo","key":"b","payload":2}])");
  ASSERT_EQ(batch.status, 200);
  EXPECT_EQ(Count(batch.body, R"("state":"succeeded")"), 2u) << batch.body;
}

TEST_F(ServerE2e, RemoteWorkerLeasesHeartbeatsCompletesAndFails) {
  const std::string a = Submit(*http_, "t.remote", "ka", R"("in-a")");
  const std::string b = Submit(*http_, "t.remote", "kb");
  const std::string c = Submit(*http_, "t.remote", "kc");
  const std::string d = Submit(*http_, "t.remote", "kd");

  // An acknowledged command becomes leasable a moment later: long-poll until all four came.
  std::map<std::string, std::string> lease_of;  // id -> token
  for (int i = 0; i < 10 && lease_of.size() < 4; ++i) {
    Reply leased = http_->Call("POST", "/v1/leases",
                               R"({"types":["t.remote"],"worker":"w1","max":10,"wait_ms":500})");
    ASSERT_EQ(leased.status, 200) << leased.body;
    for (size_t at = leased.body.find("\"lease\":"); at != std::string::npos;
         at = leased.body.find("\"lease\":", at + 1)) {
      lease_of[JsonString(leased.body, "id", at)] = JsonString(leased.body, "lease", at);
    }
  }
  ASSERT_EQ(lease_of.size(), 4u);
  EXPECT_EQ(JsonString(http_->Call("GET", "/v1/commands/" + a).body, "state"), "running");

  Reply beat =
      http_->Call("POST", "/v1/leases/" + lease_of[a] + "/heartbeat", R"({"lease_ms":5000})");
  ASSERT_EQ(beat.status, 200) << beat.body;
  EXPECT_EQ(JsonString(beat.body, "lease"), lease_of[a]);

  Reply done = http_->Call("POST", "/v1/commands/" + a + "/complete",
                           R"({"lease":")" + lease_of[a] + R"(","result":{"ok":true}})");
  ASSERT_EQ(done.status, 200) << done.body;
  Reply rec = http_->Call("GET", "/v1/commands/" + a);
  EXPECT_EQ(JsonString(rec.body, "state"), "succeeded");
  EXPECT_NE(rec.body.find(R"("result":{"ok":true})"), std::string::npos) << rec.body;

  Reply failed =
      http_->Call("POST", "/v1/commands/" + b + "/fail",
                  R"({"lease":")" + lease_of[b] + R"(","error":"boom","retryable":false})");
  ASSERT_EQ(failed.status, 200) << failed.body;
  EXPECT_EQ(JsonString(http_->Call("GET", "/v1/commands/" + b).body, "state"), "dead");

  // A completed lease is no lease any more.
  Reply twice = http_->Call("POST", "/v1/commands/" + a + "/complete",
                            R"({"lease":")" + lease_of[a] + R"("})");
  EXPECT_EQ(twice.status, 404) << twice.body;
  EXPECT_EQ(JsonString(twice.body, "field"), "lease") << twice.body;

  Reply batch =
      http_->Call("POST", "/v1/completions",
                  R"([{"id":")" + c + R"(","lease":")" + lease_of[c] +
                      R"(","result_b64":"AAE="},)" + R"({"id":")" + d + R"(","lease":")" +
                      lease_of[d] + R"(","error":"no","retryable":false},)" + R"({"id":")" + a +
                      R"(","lease":")" + lease_of[a] + R"(","result":1}])");
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(Count(batch.body, "\"id\":"), 2u) << batch.body;
  EXPECT_EQ(JsonString(batch.body, "field"), "lease") << batch.body;
  EXPECT_EQ(JsonString(http_->Call("GET", "/v1/commands/" + c).body, "result_b64"), "AAE=");
  EXPECT_EQ(JsonString(http_->Call("GET", "/v1/commands/" + d).body, "state"), "dead");

  // A long-poll with nothing to lease answers [] after its wait_ms.
  const auto start = Clock::now();
  Reply empty =
      http_->Call("POST", "/v1/leases", R"({"types":["t.remote"],"worker":"w1","wait_ms":100})");
  EXPECT_GE(Clock::now() - start, 90ms);
  EXPECT_EQ(empty.body, R"({"leases":[]})");
}

TEST_F(ServerE2e, AnExpiredLeaseIsRedeliveredAndTheStaleLeaseRefused) {
  const std::string id = Submit(*http_, "t.expire", "ke");
  Reply first =
      http_->Call("POST", "/v1/leases", R"({"types":["t.expire"],"worker":"slow","lease_ms":100})");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string stale = JsonString(first.body, "lease");
  ASSERT_FALSE(stale.empty()) << first.body;
  EXPECT_NE(first.body.find("\"attempt\":1"), std::string::npos) << first.body;

  Reply second =
      http_->Call("POST", "/v1/leases", R"({"types":["t.expire"],"worker":"fast","wait_ms":3000})");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(JsonString(second.body, "id"), id) << second.body;
  EXPECT_NE(second.body.find("\"attempt\":2"), std::string::npos) << second.body;
  const std::string fresh = JsonString(second.body, "lease");

  Reply refused = http_->Call("POST", "/v1/commands/" + id + "/complete",
                              R"({"lease":")" + stale + R"(","result":"late"})");
  EXPECT_EQ(refused.status, 404) << refused.body;
  EXPECT_EQ(JsonString(refused.body, "field"), "lease") << refused.body;
  Reply beat = http_->Call("POST", "/v1/leases/" + stale + "/heartbeat");
  EXPECT_EQ(beat.status, 404) << beat.body;

  Reply ok = http_->Call("POST", "/v1/commands/" + id + "/complete",
                         R"({"lease":")" + fresh + R"(","result":"on time"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  Reply rec = http_->Call("GET", "/v1/commands/" + id);
  EXPECT_EQ(JsonString(rec.body, "state"), "succeeded");
  EXPECT_EQ(JsonString(rec.body, "result"), "on time");
}

TEST_F(ServerE2e, PipelinedRequestsAreAnsweredInOrder) {
  std::string burst;
  for (int i = 0; i < 20; ++i) {
    burst += Request("POST", "/v1/commands",
                     R"({"type":"t.idle","key":"p","payload":)" + std::to_string(i) + "}");
    burst += Request("GET", "/v1/commands?key=p&limit=1");
  }
  burst += Request("GET", "/nowhere");
  ASSERT_TRUE(http_->Send(burst));
  std::string last_id;
  for (int i = 0; i < 20; ++i) {
    Reply submitted = http_->Read();
    ASSERT_EQ(submitted.status, 200) << i;
    const std::string id = JsonString(submitted.body, "id");
    EXPECT_GT(id, last_id);
    Reply newest = http_->Read();
    ASSERT_EQ(newest.status, 200) << i;
    EXPECT_EQ(JsonString(newest.body, "id"), id) << i;  // the list saw the submit before it
    EXPECT_NE(newest.body.find("\"payload\":" + std::to_string(i) + ","), std::string::npos);
    last_id = id;
  }
  EXPECT_EQ(http_->Read().status, 404);
}

TEST_F(ServerE2e, LimitsAndTimeouts) {
  // An announced body over --max-body-bytes: 413, field "body", and the connection closes.
  Reply big =
      http_->Call("POST", "/v1/commands",
                  R"({"type":"t.idle","key":"big","payload":")" + std::string(70000, 'x') + "\"}");
  EXPECT_EQ(big.status, 413) << big.body;
  EXPECT_EQ(JsonString(big.body, "field"), "body");
  EXPECT_TRUE(http_->ClosedWithin(2s));

  // Headers over the default 16 KiB: 431.
  RawHttp headers(server_->port());
  ASSERT_TRUE(headers.Send(
      "GET /v1/commands HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'h') + "\r\n\r\n"));
  EXPECT_EQ(headers.Read().status, 431);

  // One byte, then silence: 408 after --request-timeout-ms, and closed.
  RawHttp slow(server_->port());
  const auto start = Clock::now();
  ASSERT_TRUE(slow.Send("G"));
  Reply timed_out = slow.Read(3s);
  EXPECT_EQ(timed_out.status, 408) << timed_out.body;
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_TRUE(slow.ClosedWithin(2s));

  // A client sending a byte every 100 ms never finishes within 400 ms either.
  RawHttp trickle(server_->port());
  const std::string get = Request("GET", "/v1/commands");
  Reply trickled;
  for (char c : get) {
    if (!trickle.Send(std::string_view(&c, 1))) break;
    trickled = trickle.Read(100ms);
    if (trickled.status != 0) break;
  }
  EXPECT_EQ(trickled.status, 408);

  // The server still serves, and nothing was stored.
  RawHttp after(server_->port());
  Reply list = after.Call("GET", "/v1/commands");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(Count(list.body, "\"id\":"), 0u) << list.body;
}

// Each bad request gets its status and a JSON error naming the problem; nothing is stored.
struct BadRequest {
  const char* name;
  std::string method;
  std::string target;
  std::string body;
  int status;
  const char* code;
  const char* field;  // "" = no field
};

TEST_F(ServerE2e, BadRequestsAreRefusedAndStoreNothing) {
  // One command held by a worker, for the outcome routes.
  const std::string id = Submit(*http_, "t.bad", "held");
  Reply leased = http_->Call("POST", "/v1/leases", R"({"types":["t.bad"],"worker":"w"})");
  const std::string lease = JsonString(leased.body, "lease");
  ASSERT_FALSE(lease.empty()) << leased.body;
  const std::string cmd = "/v1/commands/" + id;
  const std::string eleven(11, 'x');
  std::string big_batch = "[";
  for (int i = 0; i < 11; ++i)
    big_batch += std::string(i ? "," : "") + R"({"type":"t.idle","key":"k"})";
  big_batch += "]";

  const char* kInvalid = "INVALID_ARGUMENT";
  const std::vector<BadRequest> table = {
      {"empty body", "POST", "/v1/commands", "", 400, kInvalid, "body"},
      {"not json", "POST", "/v1/commands", "hello", 400, kInvalid, "body"},
      {"truncated object", "POST", "/v1/commands", R"({"type":"t.idle","key")", 400, kInvalid,
       "body"},
      {"truncated string", "POST", "/v1/commands", R"({"type":"t.id)", 400, kInvalid, "body"},
      {"trailing comma", "POST", "/v1/commands", R"({"type":"t.idle","key":"k",})", 400, kInvalid,
       "body"},
      {"trailing garbage", "POST", "/v1/commands", R"({"type":"t.idle","key":"k"}x)", 400, kInvalid,
       "body"},
      {"invalid utf-8", "POST", "/v1/commands", "{\"type\":\"t.idle\",\"key\":\"k\xff\"}", 400,
       kInvalid, "body"},
      {"scalar body", "POST", "/v1/commands", "42", 400, kInvalid, "body"},
      {"huge number", "POST", "/v1/commands",
       R"({"type":"t.idle","key":"k","timeout_ms":1e999999})", 400, kInvalid, "body"},
      {"missing type", "POST", "/v1/commands", R"({"key":"k"})", 400, kInvalid, "type"},
      {"missing key", "POST", "/v1/commands", R"({"type":"t.idle"})", 400, kInvalid, "key"},
      {"type a number", "POST", "/v1/commands", R"({"type":5,"key":"k"})", 400, kInvalid, "type"},
      {"key an object", "POST", "/v1/commands", R"({"type":"t.idle","key":{}})", 400, kInvalid,
       "key"},
      {"unknown field", "POST", "/v1/commands", R"({"type":"t.idle","key":"k","colour":1})", 400,
       kInvalid, "colour"},
      {"duplicate field", "POST", "/v1/commands", R"({"type":"t.idle","key":"k","key":"j"})", 400,
       kInvalid, "key"},
      {"id is not an input", "POST", "/v1/commands",
       R"({"type":"t.idle","key":"k","id":"0000000000000001"})", 400, kInvalid, "id"},
      {"max_attempts negative", "POST", "/v1/commands",
       R"({"type":"t.idle","key":"k","max_attempts":-1})", 400, kInvalid, "max_attempts"},
      {"max_attempts over uint32", "POST", "/v1/commands",
       R"({"type":"t.idle","key":"k","max_attempts":4294967296})", 400, kInvalid, "max_attempts"},
      {"not_before not a time", "POST", "/v1/commands",
       R"({"type":"t.idle","key":"k","not_before":"soon"})", 400, kInvalid, "not_before"},
      {"bad base64", "POST", "/v1/commands", R"({"type":"t.idle","key":"k","payload_b64":"AA*="})",
       400, kInvalid, "payload_b64"},
      {"both payloads", "POST", "/v1/commands",
       R"({"type":"t.idle","key":"k","payload":1,"payload_b64":"AA=="})", 400, kInvalid, "payload"},
      {"header value a number", "POST", "/v1/commands",
       R"({"type":"t.idle","key":"k","headers":{"a":1}})", 400, kInvalid, "headers.a"},
      {"empty batch", "POST", "/v1/commands", "[]", 400, kInvalid, "body"},
      {"truncated batch", "POST", "/v1/commands", R"([{"type":"t.idle","key":"k"})", 400, kInvalid,
       "body"},
      {"batch over --max-batch", "POST", "/v1/commands", big_batch, 413, "RESOURCE_EXHAUSTED",
       "body"},
      {"unknown query parameter", "POST", "/v1/commands?colour=red",
       R"({"type":"t.idle","key":"k"})", 400, kInvalid, "colour"},
      {"wait without unit", "POST", "/v1/commands?wait=5", R"({"type":"t.idle","key":"k"})", 400,
       kInvalid, "wait"},
      {"wait negative", "POST", "/v1/commands?wait=-1s", R"({"type":"t.idle","key":"k"})", 400,
       kInvalid, "wait"},
      {"wait fractional", "POST", "/v1/commands?wait=1.5s", R"({"type":"t.idle","key":"k"})", 400,
       kInvalid, "wait"},
      {"wait over --max-wait-ms", "POST", "/v1/commands?wait=6s", R"({"type":"t.idle","key":"k"})",
       400, kInvalid, "wait"},
      {"wait twice", "GET", cmd + "?wait=1s&wait=2s", "", 400, kInvalid, "wait"},
      {"id too short", "GET", "/v1/commands/abc", "", 400, kInvalid, "id"},
      {"id not hex", "GET", "/v1/commands/000000000000000g", "", 400, kInvalid, "id"},
      {"id uppercase", "GET", "/v1/commands/00000000000000FF", "", 400, kInvalid, "id"},
      {"id zero", "POST", "/v1/commands/0000000000000000/cancel", "", 400, kInvalid, "id"},
      {"unknown id", "GET", "/v1/commands/00000000000000ff", "", 404, "NOT_FOUND", ""},
      {"audit takes no query", "GET", cmd + "/audit?wait=1s", "", 400, kInvalid, "wait"},
      {"list bad state", "GET", "/v1/commands?state=done", "", 400, kInvalid, "state"},
      {"list bad cursor", "GET", "/v1/commands?cursor=xyz", "", 400, kInvalid, "cursor"},
      {"list limit zero", "GET", "/v1/commands?limit=0", "", 400, kInvalid, "limit"},
      {"list limit too big", "GET", "/v1/commands?limit=1001", "", 400, kInvalid, "limit"},
      {"list repeated key", "GET", "/v1/commands?key=a&key=b", "", 400, kInvalid, "key"},
      {"list bad percent escape", "GET", "/v1/commands?key=a%zz", "", 400, kInvalid, "key"},
      {"unknown route", "GET", "/v2/commands", "", 404, "NOT_FOUND", ""},
      {"unknown sub-route", "POST", cmd + "/explode", "", 404, "NOT_FOUND", ""},
      {"wrong method", "DELETE", cmd, "", 405, kInvalid, "method"},
      {"wrong method on leases", "GET", "/v1/leases", "", 405, kInvalid, "method"},
      {"lease without worker", "POST", "/v1/leases", R"({"types":["t.bad"]})", 400, kInvalid,
       "worker"},
      {"lease empty types", "POST", "/v1/leases", R"({"types":[],"worker":"w"})", 400, kInvalid,
       "types"},
      {"lease max zero", "POST", "/v1/leases", R"({"types":["t.bad"],"worker":"w","max":0})", 400,
       kInvalid, "max"},
      {"lease wait_ms a string", "POST", "/v1/leases",
       R"({"types":["t.bad"],"worker":"w","wait_ms":"1s"})", 400, kInvalid, "wait_ms"},
      {"complete without lease", "POST", cmd + "/complete", R"({"result":1})", 400, kInvalid,
       "lease"},
      {"complete bad lease token", "POST", cmd + "/complete", R"({"lease":"a b","result":1})", 400,
       kInvalid, "lease"},
      {"complete unknown lease", "POST", cmd + "/complete", R"({"lease":"nope","result":1})", 404,
       "NOT_FOUND", "lease"},
      {"complete both results", "POST", cmd + "/complete",
       R"({"lease":")" + lease + R"(","result":1,"result_b64":"AA=="})", 400, kInvalid, "result"},
      {"complete bad base64", "POST", cmd + "/complete",
       R"({"lease":")" + lease + R"(","result_b64":"%%"})", 400, kInvalid, "result_b64"},
      {"fail without error", "POST", cmd + "/fail", R"({"lease":")" + lease + R"("})", 400,
       kInvalid, "error"},
      {"fail retryable a string", "POST", cmd + "/fail",
       R"({"lease":")" + lease + R"(","error":"x","retryable":"no"})", 400, kInvalid, "retryable"},
      {"fail without lease", "POST", cmd + "/fail", R"({"error":"x"})", 400, kInvalid, "lease"},
      {"heartbeat unknown lease", "POST", "/v1/leases/nope/heartbeat", "", 404, "NOT_FOUND",
       "lease"},
      {"heartbeat lease_ms too long", "POST", "/v1/leases/" + lease + "/heartbeat",
       R"({"lease_ms":3600001})", 400, kInvalid, "lease_ms"},
      {"completions neither array nor object", "POST", "/v1/completions", R"("x")", 400, kInvalid,
       "body"},
      {"completions object with an unknown member", "POST", "/v1/completions", R"({"id":"x"})", 400,
       kInvalid, "id"},
      {"completions empty", "POST", "/v1/completions", "[]", 400, kInvalid, "body"},
      {"completions with a lease without worker", "POST", "/v1/completions",
       R"({"outcomes":[],"lease":{"types":["t"]}})", 400, kInvalid, "lease.worker"},
  };
  ASSERT_GE(table.size(), 40u);
  for (const BadRequest& bad : table) {
    Reply r = http_->Call(bad.method, bad.target, bad.body);
    EXPECT_EQ(r.status, bad.status) << bad.name << ": " << r.body;
    EXPECT_EQ(JsonString(r.body, "code"), bad.code) << bad.name << ": " << r.body;
    EXPECT_EQ(JsonString(r.body, "field"), bad.field) << bad.name << ": " << r.body;
    EXPECT_FALSE(JsonString(r.body, "message").empty()) << bad.name;
    if (bad.status == 405) {
      EXPECT_NE(r.head.find("Allow: "), std::string::npos) << bad.name;
    }
    if (r.status == 0) http_ = std::make_unique<RawHttp>(server_->port());  // keep going
  }
  // The connection survived them all, nothing else was stored, the held command is untouched.
  Reply list = http_->Call("GET", "/v1/commands");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Count(list.body, "\"id\":"), 1u) << list.body;
  Reply held = http_->Call("GET", cmd);
  EXPECT_EQ(JsonString(held.body, "state"), "running");
  EXPECT_NE(held.body.find("\"attempt\":1"), std::string::npos) << held.body;
}

TEST_F(ServerE2e, SigtermExitsZeroAndARestartKeepsEveryAcknowledgedCommand) {
  std::vector<std::string> acked;
  for (int i = 0; i < 20; ++i)
    acked.push_back(Submit(*http_, "t.idle", "s" + std::to_string(i % 3)));
  Reply batch = http_->Call("POST", "/v1/commands",
                            R"([{"type":"t.idle","key":"sb"},{"type":"t.idle","key":"sb"}])");
  ASSERT_EQ(batch.status, 200);
  for (size_t at = batch.body.find("\"id\":"); at != std::string::npos;
       at = batch.body.find("\"id\":", at + 1)) {
    acked.push_back(JsonString(batch.body, "id", at));
  }
  ASSERT_EQ(acked.size(), 22u);

  const int status = server_->Terminate(10s);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);

  ASSERT_TRUE(server_->Restart().ok());
  RawHttp again(server_->port());
  for (const std::string& id : acked) {
    Reply r = again.Call("GET", "/v1/commands/" + id);
    EXPECT_EQ(r.status, 200) << id << ": " << r.body;
    EXPECT_EQ(JsonString(r.body, "state"), "pending") << id;
  }
  Reply list = again.Call("GET", "/v1/commands?limit=1000");
  EXPECT_EQ(Count(list.body, "\"id\":"), 22u);
}

// Limits a server with default body limits shows: max connections (503, then closed),
// a percent-encoded invalid UTF-8 query value (400 naming it), a payload over the bus's
// 1 MiB limit (413 naming it; nothing stored).
TEST(ServerE2eLimits, ConnectionsQueryUtf8AndPayloadSize) {
  auto served = ServedCmdq::Start({"t.idle"}, {"--max-connections", "2"});
  ASSERT_TRUE(served) << served.error().ToString();
  const uint16_t port = (*served)->port();

  RawHttp first(port), second(port);
  ASSERT_EQ(first.Call("GET", "/healthz").status, 200);
  ASSERT_EQ(second.Call("GET", "/healthz").status, 200);
  RawHttp third(port);  // accepted by the kernel, answered 503 and closed by the server
  Reply refused = third.Read(5s);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_TRUE(third.ClosedWithin(2s));
  // A connection that goes makes room for the next.
  second.Close();
  bool served_again = false;
  for (int i = 0; i < 50 && !served_again; ++i) {
    RawHttp next(port);
    served_again = next.Call("GET", "/healthz").status == 200;
    if (!served_again) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(served_again);

  Reply bad_key = first.Call("GET", "/v1/commands?key=%FF");
  EXPECT_EQ(bad_key.status, 400) << bad_key.body;
  EXPECT_EQ(JsonString(bad_key.body, "field"), "key") << bad_key.body;

  const std::string big(((1 << 20) + 3) / 3 * 4, 'A');  // base64 of just over 1 MiB
  Reply too_big = first.Call("POST", "/v1/commands",
                             R"({"type":"t.idle","key":"big","payload_b64":")" + big + R"("})");
  EXPECT_EQ(too_big.status, 413) << too_big.body.substr(0, 300);
  EXPECT_EQ(JsonString(too_big.body, "field"), "payload_b64") << too_big.body.substr(0, 300);
  Reply list = first.Call("GET", "/v1/commands?key=big");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(Count(list.body, "\"id\":"), 0u) << list.body;
}

}  // namespace
}  // namespace cmdq::testing
