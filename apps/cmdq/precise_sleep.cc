#include "precise_sleep.h"

#include <sys/prctl.h>

namespace cmdq::app {

void UsePreciseSleeps() {
  // Best effort: a kernel that refuses leaves the default slack, and the run goes on.
  (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
}

}  // namespace cmdq::app
