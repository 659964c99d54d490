// The server's use of the ops modules without a socket: the auth gate, the key checks
// and the submit rate limit as the routes apply them (access.h).
#include "server/access.h"

#include <gtest/gtest.h>

#include <vector>

#include "cmdq/clock.h"
#include "server/rate_limiter.h"

namespace cmdq::server {
namespace {

constexpr std::string_view kTokens = R"(
tenant-token-0123456789abc scopes=submit,read keys=tenant-42/*
admin-token-0123456789abcd scopes=admin
)";

Authorizer Load() {
  auto auth = Authorizer::Parse(kTokens, "tokens.txt");
  EXPECT_TRUE(auth.has_value()) << auth.error().ToString();
  return *auth;
}

HttpRequest Request(std::string_view token) {
  HttpRequest request{http::verb::get, "/v1/commands", 11};
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + std::string(token));
  return request;
}

Route RouteOf(Access access) { return Route{http::verb::get, "/x", "GET /x", access, nullptr}; }

Command CommandOf(std::string key) {
  Command c;
  c.type = "t";
  c.key = std::move(key);
  return c;
}

TEST(AuthGate, OpenRoutesPassAndOthersNeedAToken) {
  const Authorizer auth = Load();
  const RequestGate gate = AuthGate(auth);
  EXPECT_FALSE(gate(Request(""), RouteOf(Access::kOpen)));
  auto refused = gate(Request(""), RouteOf(Access::kRead));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result(), http::status::unauthorized);
  EXPECT_EQ((*refused)[http::field::www_authenticate], "Bearer");
  EXPECT_NE(refused->body().find("UNAUTHENTICATED"), std::string::npos);
}

TEST(AuthGate, ChecksTheScopeAndLeavesKeysToTheRoute) {
  const Authorizer auth = Load();
  const RequestGate gate = AuthGate(auth);
  EXPECT_FALSE(gate(Request("tenant-token-0123456789abc"), RouteOf(Access::kRead)));
  auto refused = gate(Request("tenant-token-0123456789abc"), RouteOf(Access::kAdmin));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result(), http::status::forbidden);
  EXPECT_EQ(refused->count(http::field::www_authenticate), 0u);
  EXPECT_FALSE(gate(Request("admin-token-0123456789abcd"), RouteOf(Access::kWork)));
}

TEST(CheckKey, KeyLimitedTokensTouchOnlyTheirKeys) {
  const Authorizer auth = Load();
  const ServerOps ops{.auth = &auth};
  const HttpRequest tenant = Request("tenant-token-0123456789abc");
  EXPECT_FALSE(CheckKey(ops, tenant, Access::kSubmit, "tenant-42/a"));
  auto other = CheckKey(ops, tenant, Access::kRead, "tenant-43/a");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->result(), http::status::forbidden);
  auto across = CheckKey(ops, tenant, Access::kRead, "");  // a list without key=
  ASSERT_TRUE(across);
  EXPECT_EQ(across->result(), http::status::forbidden);
  EXPECT_FALSE(CheckKey(ServerOps{}, Request(""), Access::kAdmin, "any"));
}

TEST(AdmitSubmit, RefusesTheWholeRequestWhenAnyKeyIsOver) {
  ManualClock clock;
  RateLimiter limiter({.per_second = 1, .burst = 2}, &clock);
  const std::vector<Command> two_a{CommandOf("a"), CommandOf("a")};
  EXPECT_FALSE(AdmitSubmit(&limiter, two_a));
  const std::vector<Command> mixed{CommandOf("b"), CommandOf("a")};
  auto refused = AdmitSubmit(&limiter, mixed);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result(), http::status::too_many_requests);
  EXPECT_EQ((*refused)[http::field::retry_after], "1");
  EXPECT_NE(refused->body().find("RESOURCE_EXHAUSTED"), std::string::npos);
  clock.Advance(1'000'000);
  EXPECT_FALSE(AdmitSubmit(&limiter, std::span(&two_a[0], 1)));
}

TEST(AdmitSubmit, WithoutALimiterEverythingPasses) {
  const std::vector<Command> many(50, CommandOf("a"));
  EXPECT_FALSE(AdmitSubmit(nullptr, many));
  RateLimiter off({});
  EXPECT_FALSE(AdmitSubmit(&off, many));
}

}  // namespace
}  // namespace cmdq::server
