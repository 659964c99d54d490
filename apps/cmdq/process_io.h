// What this process has cost the machine so far, for benchmark figures: bytes it caused
// to be written to storage (/proc/self/io write_bytes: every thread, including RocksDB's
// background flushes and compactions) and CPU time (user + system, all threads).
#pragma once

#include <cstdint>

#include "cmdq/status.h"

namespace cmdq::app {

struct ProcessCost {
  uint64_t disk_write_bytes = 0;  // sent to the block layer, not just to the page cache
  double cpu_seconds = 0;
};

// kUnavailable when /proc/self/io cannot be read (not Linux, or no task I/O accounting).
Result<ProcessCost> ReadProcessCost();

// CPU time (user + system, all threads) this process has used so far, in seconds.
double ProcessCpuSeconds();

}  // namespace cmdq::app
