#include "cmdq/clock.h"
#include "cmdq/handler.h"

namespace cmdq {

bool HandlerContext::expired() const {
  if (stop_.stop_requested()) {
    return true;
  }
  if (deadline_us_ == 0) {
    return false;
  }
  const Clock* clock = clock_ != nullptr ? clock_ : SystemClock();
  return clock->NowMicros() >= deadline_us_;
}

}  // namespace cmdq
