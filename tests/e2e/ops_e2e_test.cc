// End-to-end: the ops modules as a real `cmdq serve` applies them: bearer tokens (401,
// 403, key limits), the per-key submit rate limit (429 + Retry-After), GET /metrics, and
// the startup refusals (docs/operations.md).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "e2e/client_e2e_support.h"

namespace cmdq::testing {
namespace {

constexpr std::string_view kTenant = "tenant-token-0123456789abc";
constexpr std::string_view kAdmin = "admin-token-0123456789abcd";

// A scratch file that goes with the test.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    std::string pattern = (std::filesystem::temp_directory_path() / "cmdq-ops-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    ::close(fd);
    path_ = pattern;
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

uint16_t PortOf(const ServedCmdq& server) {
  const std::string& target = server.target();
  return static_cast<uint16_t>(std::stoi(target.substr(target.rfind(':') + 1)));
}

// One request on its own connection; the whole answer, head and body ("" on a failure).
std::string RawRequest(uint16_t port, const std::string& method, const std::string& path,
                       std::string_view token = {}, const std::string& body = {}) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n";
    if (!token.empty()) request += "Authorization: Bearer " + std::string(token) + "\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, n);
    }
  }
  ::close(fd);
  return answer;
}

std::unique_ptr<Client> ClientWith(const ServedCmdq& server, std::string_view token) {
  ClientOptions options;
  options.target = server.target();
  options.token = std::string(token);
  options.retry.max_retries = 0;  // see the 429s and 401s themselves
  auto client = Client::Create(options);
  return client ? std::move(*client) : nullptr;
}

Command Echo(std::string key) {
  Command c;
  c.type = "cmdq.echo";
  c.key = std::move(key);
  c.payload = "1";
  c.payload_is_json = true;
  return c;
}

TEST(OpsE2e, TokensScopesAndKeysAreEnforcedAndCounted) {
  const TempFile tokens(std::string(kTenant) + " scopes=submit,read keys=tenant-42/*\n" +
                        std::string(kAdmin) + " scopes=admin\n");
  auto started = ServedCmdq::Start({}, {"--durability", "none", "--tokens", tokens.path()});
  ASSERT_TRUE(started) << started.error().ToString();
  const ServedCmdq& server = **started;
  auto anonymous = ClientWith(server, "");
  auto tenant = ClientWith(server, kTenant);
  auto admin = ClientWith(server, kAdmin);
  ASSERT_TRUE(anonymous && tenant && admin);

  EXPECT_EQ(anonymous->Submit(Echo("tenant-42/a")).error().code(), StatusCode::kUnauthenticated);
  auto own = tenant->Submit(Echo("tenant-42/a"));
  ASSERT_TRUE(own) << own.error().ToString();
  EXPECT_EQ(tenant->Submit(Echo("other")).error().code(), StatusCode::kPermissionDenied);
  // One key outside the token refuses the whole batch: nothing of it is stored.
  auto batch = tenant->SubmitBatch({Echo("tenant-42/b"), Echo("other")});
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().code(), StatusCode::kPermissionDenied);
  auto listed = admin->List({.key = "tenant-42/b"});
  ASSERT_TRUE(listed) << listed.error().ToString();
  EXPECT_TRUE(listed->records.empty());

  auto foreign = admin->Submit(Echo("other"));
  ASSERT_TRUE(foreign) << foreign.error().ToString();
  EXPECT_EQ(tenant->Get(*foreign).error().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(tenant->Get(*own));
  EXPECT_EQ(tenant->List({}).error().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(tenant->List({.key = "tenant-42/a"}));
  EXPECT_EQ(tenant->Cancel(*own).code(), StatusCode::kPermissionDenied);  // admin's

  const uint16_t port = PortOf(server);
  EXPECT_NE(RawRequest(port, "GET", "/healthz").find(" 200 "), std::string::npos);
  const std::string unauthenticated = RawRequest(port, "GET", "/metrics");
  EXPECT_NE(unauthenticated.find(" 401 "), std::string::npos) << unauthenticated;
  EXPECT_NE(unauthenticated.find("WWW-Authenticate: Bearer"), std::string::npos);
  EXPECT_NE(RawRequest(port, "GET", "/metrics", kTenant).find(" 403 "), std::string::npos);
  const std::string metrics = RawRequest(port, "GET", "/metrics", kAdmin);
  EXPECT_NE(metrics.find(" 200 "), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(metrics.find(R"(cmdq_commands_submitted_total{type="cmdq.echo"} 2)"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(route="POST /v1/commands",code="401")"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(route="GET /v1/commands/{id}",code="403")"), std::string::npos);
}

TEST(OpsE2e, PerKeySubmitRateAnswers429WithRetryAfter) {
  auto started = ServedCmdq::Start(
      {}, {"--durability", "none", "--rate-per-key", "0.01", "--rate-burst", "2"});
  ASSERT_TRUE(started) << started.error().ToString();
  const ServedCmdq& server = **started;
  auto client = ClientWith(server, "");
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->Submit(Echo("hot")));
  EXPECT_TRUE(client->Submit(Echo("hot")));
  EXPECT_EQ(client->Submit(Echo("hot")).error().code(), StatusCode::kResourceExhausted);
  const std::string limited = RawRequest(PortOf(server), "POST", "/v1/commands", {},
                                         R"({"type":"cmdq.echo","key":"hot","payload":1})");
  EXPECT_NE(limited.find(" 429 "), std::string::npos) << limited;
  EXPECT_NE(limited.find("Retry-After: "), std::string::npos) << limited;
  EXPECT_NE(limited.find("RESOURCE_EXHAUSTED"), std::string::npos);
  EXPECT_TRUE(client->Submit(Echo("cold")));  // another key has its own bucket
  // A batch with the hot key is refused whole.
  auto batch = client->SubmitBatch({Echo("cold"), Echo("hot")});
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().code(), StatusCode::kResourceExhausted);
}

TEST(OpsE2e, StartupRefusesAnOpenNonLoopbackListenAndABadTokenFile) {
  CliRun open = RunCmdq("serve --durability none --listen 0.0.0.0:0");
  EXPECT_EQ(open.exit_code, 2) << open.output;
  EXPECT_NE(open.output.find("--tokens"), std::string::npos) << open.output;
  EXPECT_NE(open.output.find("--insecure"), std::string::npos);
  const TempFile bad("secret42 scopes=read\n");  // too short a token
  CliRun refused = RunCmdq("serve --durability none --tokens " + ShellQuote(bad.path()));
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find(bad.path() + ":1"), std::string::npos) << refused.output;
  EXPECT_EQ(refused.output.find("secret42"), std::string::npos);  // the token never shows
}

}  // namespace
}  // namespace cmdq::testing
