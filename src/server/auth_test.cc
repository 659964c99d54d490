#include "server/auth.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace cmdq::server {
namespace {

constexpr std::string_view kSubmitter = "submitter-token-0123456789";
constexpr std::string_view kTenant = "tenant-token-0123456789abc";
constexpr std::string_view kWorker = "worker-token-0123456789abc";
constexpr std::string_view kAdmin = "admin-token-0123456789abcd";

constexpr std::string_view kFile = R"(# cmdq tokens
submitter-token-0123456789   scopes=submit,read
tenant-token-0123456789abc   scopes=submit,read  keys=tenant-42/*,billing

worker-token-0123456789abc   scopes=work keys=only-this
  admin-token-0123456789abcd scopes=admin
)";

Authorizer Load() {
  auto auth = Authorizer::Parse(kFile, "tokens.txt");
  EXPECT_TRUE(auth.has_value()) << auth.error().ToString();
  return *auth;
}

std::string Bearer(std::string_view token) { return "Bearer " + std::string(token); }

TEST(Authorizer, WithoutTokensEveryRequestPasses) {
  Authorizer auth;
  EXPECT_FALSE(auth.enabled());
  EXPECT_TRUE(auth.Check("", Scope::kAdmin).ok());
}

TEST(Authorizer, ParsesEveryLine) {
  Authorizer auth = Load();
  EXPECT_TRUE(auth.enabled());
  EXPECT_EQ(auth.size(), 4u);
}

TEST(Authorizer, MissingOrUnknownTokenIs401) {
  Authorizer auth = Load();
  EXPECT_EQ(auth.Check("", Scope::kRead).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Check("Basic dXNlcjpwYXNz", Scope::kRead).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Check("Bearer", Scope::kRead).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Check("Bearer nope-nope-nope-nope-nope", Scope::kRead).code(),
            StatusCode::kUnauthenticated);
  // A prefix or an extension of a real token is not it.
  EXPECT_EQ(auth.Check(Bearer(kSubmitter.substr(0, 20)), Scope::kRead).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Check(Bearer(std::string(kSubmitter) + "x"), Scope::kRead).code(),
            StatusCode::kUnauthenticated);
}

TEST(Authorizer, SchemeIsCaseInsensitiveAndSpacesAreTrimmed) {
  Authorizer auth = Load();
  EXPECT_TRUE(auth.Check("bearer  " + std::string(kSubmitter) + " ", Scope::kRead).ok());
  EXPECT_TRUE(auth.Check("BEARER\t" + std::string(kSubmitter), Scope::kSubmit).ok());
}

TEST(Authorizer, ScopeOutsideTheTokenIs403) {
  Authorizer auth = Load();
  Status s = auth.Check(Bearer(kSubmitter), Scope::kWork);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("work"), std::string::npos);
  EXPECT_EQ(auth.Check(Bearer(kSubmitter), Scope::kAdmin).code(), StatusCode::kPermissionDenied);
}

TEST(Authorizer, AdminImpliesEveryScope) {
  Authorizer auth = Load();
  for (Scope s : {Scope::kSubmit, Scope::kRead, Scope::kWork, Scope::kAdmin}) {
    EXPECT_TRUE(auth.Check(Bearer(kAdmin), s, "any-key").ok()) << ScopeName(s);
  }
}

TEST(Authorizer, KeysByPrefixAndExact) {
  Authorizer auth = Load();
  EXPECT_TRUE(auth.Check(Bearer(kTenant), Scope::kSubmit, "tenant-42/order-7").ok());
  EXPECT_TRUE(auth.Check(Bearer(kTenant), Scope::kSubmit, "billing").ok());
  EXPECT_EQ(auth.Check(Bearer(kTenant), Scope::kSubmit, "billing-2").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(auth.Check(Bearer(kTenant), Scope::kRead, "tenant-43/x").code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(auth.Check(Bearer(kSubmitter), Scope::kSubmit, "whatever").ok());
}

TEST(Authorizer, AKeyLimitedTokenMayNotListAcrossKeysButMayLease) {
  Authorizer auth = Load();
  EXPECT_EQ(auth.Check(Bearer(kTenant), Scope::kRead).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(auth.Check(Bearer(kWorker), Scope::kWork).ok());
  EXPECT_TRUE(auth.Check(Bearer(kSubmitter), Scope::kRead).ok());
}

TEST(Authorizer, CheckScopeIgnoresKeysButNotScopesOrTokens) {
  Authorizer auth = Load();
  EXPECT_TRUE(auth.CheckScope(Bearer(kTenant), Scope::kRead).ok());
  EXPECT_EQ(auth.CheckScope(Bearer(kTenant), Scope::kWork).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(auth.CheckScope("", Scope::kRead).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.CheckScope(Bearer("no-such-token-0123456789"), Scope::kRead).code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(Authorizer().CheckScope("", Scope::kAdmin).ok());
}

TEST(Authorizer, MessagesNeverHoldTheToken) {
  Authorizer auth = Load();
  for (std::string_view token : {kSubmitter, kTenant, kWorker}) {
    for (Scope s : {Scope::kSubmit, Scope::kRead, Scope::kWork, Scope::kAdmin}) {
      Status st = auth.Check(Bearer(token), s, "k");
      EXPECT_EQ(st.ToString().find(token), std::string::npos) << st.ToString();
    }
  }
}

struct BadFile {
  const char* text;
  const char* says;  // part of the message
};

TEST(Authorizer, MalformedLinesNameFileAndLineButNotTheToken) {
  const BadFile cases[] = {
      {"# only a comment\n", "holds no token"},
      {"", "holds no token"},
      {"short scopes=read\n", "tokens.txt:1: the token is shorter than 16"},
      {"\n\nsecret-secret-secret-1\n", "tokens.txt:3: scopes= is missing"},
      {"secret-secret-secret-1 scopes=read,wrte\n", "unknown scope \"wrte\""},
      {"secret-secret-secret-1 scopes=\n", "unknown scope \"\""},
      {"secret-secret-secret-1 scopes=read scopes=work\n", "scopes= is given twice"},
      {"secret-secret-secret-1 scopes=read keys=a,,b\n", "keys= holds an empty key"},
      {"secret-secret-secret-1 scopes=read limit=5\n", "field 3 is not scopes=LIST"},
      {"secret\"secret-secret-1 scopes=read\n", "tokens.txt:1: the token (first field)"},
      {"secret=secret-secret-1 scopes=read\n", "tokens.txt:1: the token (first field)"},
      // The token in the wrong column: the error must not print it.
      {"scopes=read secret-secret-secret-1\n", "tokens.txt:1: the token (first field)"},
      {"x-secret-secret-secret scopes=read\nx-secret-secret-secret scopes=work\n",
       "tokens.txt:2: the same token as line 1"},
  };
  for (const BadFile& c : cases) {
    auto auth = Authorizer::Parse(c.text, "tokens.txt");
    ASSERT_FALSE(auth.has_value()) << c.text;
    const std::string msg = auth.error().ToString();
    EXPECT_EQ(auth.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(msg.find(c.says), std::string::npos) << msg;
    EXPECT_EQ(msg.find("secret-secret"), std::string::npos) << msg;
  }
}

TEST(Authorizer, PaddedTokensAndCrLfLinesAreAccepted) {
  auto auth = Authorizer::Parse("abcdefghijklmnop== scopes=read\r\n", "f");
  ASSERT_TRUE(auth.has_value()) << auth.error().ToString();
  EXPECT_TRUE(auth->Check("Bearer abcdefghijklmnop==", Scope::kRead).ok());
}

TEST(Authorizer, LoadsAFileAndReportsAMissingOne) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("cmdq_auth_test_" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path) << kFile;
  auto auth = Authorizer::LoadFile(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(auth.has_value()) << auth.error().ToString();
  EXPECT_EQ(auth->size(), 4u);
  auto missing = Authorizer::LoadFile(path.string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.error().message().find(path.string()), std::string::npos);
}

TEST(CheckBindAllowed, LoopbackAlways) {
  for (std::string_view host :
       {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(CheckBindAllowed(host, false, false).ok()) << host;
  }
}

TEST(CheckBindAllowed, ElsewhereNeedsTokensOrInsecure) {
  for (std::string_view host : {"0.0.0.0", "::", "10.0.0.5", "[2001:db8::1]", "example.com", ""}) {
    Status s = CheckBindAllowed(host, false, false);
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << host;
    EXPECT_NE(s.message().find("--tokens"), std::string::npos);
    EXPECT_NE(s.message().find("--insecure"), std::string::npos);
    EXPECT_TRUE(CheckBindAllowed(host, true, false).ok());
    EXPECT_TRUE(CheckBindAllowed(host, false, true).ok());
  }
}

}  // namespace
}  // namespace cmdq::server
