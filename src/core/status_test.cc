#include "cmdq/status.h"

#include <gtest/gtest.h>

namespace cmdq {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s, Status::Ok());
}

TEST(Status, NamesEveryCode) {
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "OK");
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "INVALID_ARGUMENT");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotFound), "NOT_FOUND");
  EXPECT_EQ(StatusCodeName(StatusCode::kAlreadyExists), "ALREADY_EXISTS");
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "FAILED_PRECONDITION");
  EXPECT_EQ(StatusCodeName(StatusCode::kResourceExhausted), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(StatusCodeName(StatusCode::kDeadlineExceeded), "DEADLINE_EXCEEDED");
  EXPECT_EQ(StatusCodeName(StatusCode::kCancelled), "CANCELLED");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnavailable), "UNAVAILABLE");
  EXPECT_EQ(StatusCodeName(StatusCode::kCorruption), "CORRUPTION");
  EXPECT_EQ(StatusCodeName(StatusCode::kIoError), "IO_ERROR");
  EXPECT_EQ(StatusCodeName(StatusCode::kInternal), "INTERNAL");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnauthenticated), "UNAUTHENTICATED");
  EXPECT_EQ(StatusCodeName(StatusCode::kPermissionDenied), "PERMISSION_DENIED");
}

TEST(Status, UnknownCodeDoesNotCrash) {
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(200)), "UNKNOWN");
}

TEST(Status, ToStringNamesCodeMessageAndField) {
  Status s =
      Status::InvalidArgument("payload", "payload: 2000000 bytes is over the maximum of 1048576");
  EXPECT_EQ(s.ToString(),
            "INVALID_ARGUMENT: payload: 2000000 bytes is over the maximum of 1048576 (field "
            "payload)");
  EXPECT_EQ(Status::NotFound("no command 42").ToString(), "NOT_FOUND: no command 42");
}

TEST(Status, ResultCarriesError) {
  Result<int> r = Error(Status::Corruption("bad"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace cmdq
