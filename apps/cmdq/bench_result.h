// BenchResult: the one result object every `cmdq bench` run prints (WORKLOADS.md, "The
// result every run prints"): as a single-line JSON object for scripts (--json), or as a
// readable table for people. Fields a workload cannot fill stay unset and are left out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "latency_histogram.h"

namespace cmdq::app {

struct LatencyUs {
  double p50 = 0;
  double p99 = 0;
  double p999 = 0;
  double max = 0;
};

LatencyUs LatencyFrom(const HistogramSnapshot& snapshot);

// An ordered list of numeric members; values are kept as their JSON text.
class NumberFields {
 public:
  void Add(std::string name, int64_t value);
  void Add(std::string name, double value);
  bool empty() const { return fields_.empty(); }
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct BenchResult {
  std::string workload;  // e.g. "W0.async"
  std::string mode;      // "sync", "async", ...
  std::string durability = "D0";
  std::string transport = "inproc";
  uint64_t commands = 0;
  double seconds = 0;
  double throughput_per_s = 0;
  std::optional<LatencyUs> latency_us;  // submit -> done
  NumberFields params;
  NumberFields extra;
  int cores = 0;
  std::string machine_note;

  std::string ToJson() const;   // one line, no trailing newline
  std::string ToTable() const;  // several lines, ending in a newline
};

// The machine part every result carries: cores of this machine and a note that the load
// generator runs in the same process.
void FillMachine(BenchResult& result);

}  // namespace cmdq::app
