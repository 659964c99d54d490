#include "client/target_url.h"

#include <gtest/gtest.h>

#include "cmdq/client.h"

namespace cmdq::client {
namespace {

TEST(TargetUrl, ReadsHostPortAndPrefix) {
  auto t = ParseTargetUrl("http://127.0.0.1:7700");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, "7700");
  EXPECT_EQ(t->base_path, "");
  EXPECT_EQ(t->host_header, "127.0.0.1:7700");
  t = ParseTargetUrl("http://gw.example/cmdq/");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->port, "80");
  EXPECT_EQ(t->base_path, "/cmdq");
  t = ParseTargetUrl("http://[::1]:9000");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, "9000");
}

TEST(TargetUrl, RefusesWhatItCannotSpeakTo) {
  for (std::string_view bad :
       {"", "127.0.0.1:7700", "https://h", "http://", "http://:80", "http://h:0", "http://h:70000",
        "http://h:x", "http://u@h", "http://h/?q", "http://[::1", "http://h:"}) {
    auto t = ParseTargetUrl(bad);
    ASSERT_FALSE(t) << bad;
    EXPECT_EQ(t.error().field(), "target") << bad;
  }
}

TEST(ParseDuration, ReadsMillisecondsSecondsAndMinutes) {
  EXPECT_EQ(*ParseDuration("500ms", "wait"), std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseDuration("2s", "wait"), std::chrono::milliseconds(2000));
  EXPECT_EQ(*ParseDuration("1m", "wait"), std::chrono::milliseconds(60000));
  for (std::string_view bad : {"", "2", "s", "-1s", "1.5s", "2 s", "2h", "99999999999s"}) {
    auto d = ParseDuration(bad, "wait");
    ASSERT_FALSE(d) << bad;
    EXPECT_EQ(d.error().field(), "wait");
  }
}

}  // namespace
}  // namespace cmdq::client
