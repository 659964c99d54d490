#include "precise_sleep.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>

#include <thread>

namespace cmdq::app {
namespace {

TEST(PreciseSleeps, SetsOnlyTheCallingThreadsTimerSlackToOneNanosecond) {
  const int before = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  int in_thread = 0;
  std::thread([&] {
    UsePreciseSleeps();
    in_thread = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  }).join();
  EXPECT_EQ(in_thread, 1);
  EXPECT_EQ(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), before);  // other threads keep theirs
}

}  // namespace
}  // namespace cmdq::app
