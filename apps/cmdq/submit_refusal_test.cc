#include "submit_refusal.h"

#include <gtest/gtest.h>

namespace cmdq::app {
namespace {

TEST(SubmitRefusal, OnlyAnUnavailableServerALateAnswerOrARateLimitAreTransient) {
  EXPECT_TRUE(IsTransientSubmitError(Status::Unavailable("server stopping")));
  EXPECT_TRUE(IsTransientSubmitError(Status::DeadlineExceeded("no answer in 30 s")));
  // 429 (the per-key rate limit) names no field; 413 (a size limit) does.
  EXPECT_TRUE(IsTransientSubmitError(Status(StatusCode::kResourceExhausted, "slow down")));
  EXPECT_FALSE(IsTransientSubmitError(
      Status(StatusCode::kResourceExhausted, "a batch holds at most 1000 commands", "body")));
  EXPECT_FALSE(IsTransientSubmitError(Status::InvalidArgument("type", "unknown type")));
  EXPECT_FALSE(IsTransientSubmitError(Status(StatusCode::kPermissionDenied, "no submit scope")));
  EXPECT_FALSE(IsTransientSubmitError(Status(StatusCode::kUnauthenticated, "no token")));
}

}  // namespace
}  // namespace cmdq::app
