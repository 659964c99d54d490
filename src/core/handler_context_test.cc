#include <gtest/gtest.h>

#include <stop_token>

#include "cmdq/clock.h"
#include "cmdq/handler.h"

namespace cmdq {
namespace {

TEST(HandlerContext, ExpiresAtTheDeadline) {
  ManualClock clock(1'000);
  Command command;
  HandlerContext ctx(command, 1, 2'000, std::stop_token(), &clock);
  EXPECT_FALSE(ctx.expired());
  clock.Set(1'999);
  EXPECT_FALSE(ctx.expired());
  clock.Set(2'000);
  EXPECT_TRUE(ctx.expired());
}

TEST(HandlerContext, NoDeadlineNeverExpiresByTime) {
  ManualClock clock(1'000);
  Command command;
  HandlerContext ctx(command, 2, 0, std::stop_token(), &clock);
  clock.Advance(1'000'000'000);
  EXPECT_FALSE(ctx.expired());
  EXPECT_EQ(ctx.attempt(), 2u);
}

TEST(HandlerContext, ExpiresWhenStopRequested) {
  ManualClock clock(1'000);
  Command command;
  std::stop_source source;
  HandlerContext ctx(command, 1, 0, source.get_token(), &clock);
  EXPECT_FALSE(ctx.expired());
  source.request_stop();
  EXPECT_TRUE(ctx.expired());
  EXPECT_TRUE(ctx.stop_token().stop_requested());
}

}  // namespace
}  // namespace cmdq
