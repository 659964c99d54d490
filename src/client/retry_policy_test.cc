#include "client/retry_policy.h"

#include <gtest/gtest.h>

namespace cmdq::client {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicy, DoublesUpToTheCapWithoutJitter) {
  RetryPolicy policy({.max_retries = 10,
                      .initial_backoff = milliseconds(50),
                      .max_backoff = milliseconds(300),
                      .jitter = 0});
  EXPECT_EQ(policy.Delay(1, std::nullopt), milliseconds(50));
  EXPECT_EQ(policy.Delay(2, std::nullopt), milliseconds(100));
  EXPECT_EQ(policy.Delay(3, std::nullopt), milliseconds(200));
  EXPECT_EQ(policy.Delay(4, std::nullopt), milliseconds(300));
  EXPECT_EQ(policy.Delay(40, std::nullopt), milliseconds(300));
}

TEST(RetryPolicy, JitterStaysInItsBand) {
  RetryPolicy policy({.initial_backoff = milliseconds(1000), .jitter = 0.2}, 7);
  bool varied = false;
  for (int i = 0; i < 200; ++i) {
    const milliseconds d = policy.Delay(1, std::nullopt);
    EXPECT_GE(d, milliseconds(800));
    EXPECT_LE(d, milliseconds(1200));
    varied |= d != milliseconds(1000);
  }
  EXPECT_TRUE(varied);
}

TEST(RetryPolicy, RetryAfterReplacesTheBackoffUpToItsCap) {
  RetryPolicy policy({.max_retry_after = milliseconds(5000)});
  EXPECT_EQ(policy.Delay(1, milliseconds(3000)), milliseconds(3000));
  EXPECT_EQ(policy.Delay(1, milliseconds(3'600'000)), milliseconds(5000));
}

TEST(RetryPolicy, ReadsRetryAfterSecondsOnly) {
  EXPECT_EQ(ParseRetryAfter("3"), milliseconds(3000));
  EXPECT_EQ(ParseRetryAfter(" 0 "), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
}

TEST(RetryPolicy, OnlyLoadAndShutdownAreRetried) {
  EXPECT_TRUE(IsRetryableStatus(429));
  EXPECT_TRUE(IsRetryableStatus(503));
  for (int status : {200, 400, 404, 409, 413, 500, 504}) EXPECT_FALSE(IsRetryableStatus(status));
}

}  // namespace
}  // namespace cmdq::client
