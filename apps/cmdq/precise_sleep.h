// PreciseSleeps: an open-loop load generator's thread sleeps until each command is due;
// by default Linux may end such a sleep up to 50 µs late (the timer slack, to batch
// wake-ups), and that lateness counts in every command's submit->done. `cmdq bench` and
// the peers' driver both call this in their paced threads, so neither system is measured
// with a sloppier clock than the other.
#pragma once

namespace cmdq::app {

// This thread's sleeps end as close to their time as the kernel can (timer slack 1 ns).
void UsePreciseSleeps();

}  // namespace cmdq::app
