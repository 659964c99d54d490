#include "process_io.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace cmdq::app {

Result<ProcessCost> ReadProcessCost() {
  ProcessCost cost;
  std::ifstream io("/proc/self/io");
  bool found = false;
  for (std::string name; io >> name;) {
    uint64_t value = 0;
    if (!(io >> value)) break;
    if (name == "write_bytes:") {
      cost.disk_write_bytes = value;
      found = true;
    }
  }
  if (!found) return Error(Status::Unavailable("/proc/self/io has no write_bytes"));
  cost.cpu_seconds = ProcessCpuSeconds();
  return cost;
}

double ProcessCpuSeconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace cmdq::app
