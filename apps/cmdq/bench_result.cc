#include "bench_result.h"

#include <fmt/format.h>

#include <cmath>
#include <thread>

namespace cmdq::app {
namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string JsonObject(const NumberFields& fields) {
  std::string out = "{";
  for (const auto& [name, value] : fields.fields()) {
    if (out.size() > 1) out += ", ";
    out += fmt::format("{}: {}", JsonString(name), value);
  }
  return out + "}";
}

std::string Number(double value) {
  if (std::abs(value) >= 100 || value == std::floor(value)) return fmt::format("{:.0f}", value);
  return fmt::format("{:.2f}", value);
}

}  // namespace

LatencyUs LatencyFrom(const HistogramSnapshot& snapshot) {
  return {.p50 = snapshot.PercentileNs(0.50) / 1e3,
          .p99 = snapshot.PercentileNs(0.99) / 1e3,
          .p999 = snapshot.PercentileNs(0.999) / 1e3,
          .max = snapshot.max_ns() / 1e3};
}

void NumberFields::Add(std::string name, int64_t value) {
  fields_.emplace_back(std::move(name), std::to_string(value));
}

void NumberFields::Add(std::string name, double value) {
  fields_.emplace_back(std::move(name), Number(value));
}

std::string BenchResult::ToJson() const {
  std::string out = fmt::format(
      "{{\"workload\": {}, \"mode\": {}, \"durability\": {}, \"transport\": {}, "
      "\"commands\": {}, \"seconds\": {:.3f}, \"throughput_per_s\": {:.0f}",
      JsonString(workload), JsonString(mode), JsonString(durability), JsonString(transport),
      commands, seconds, throughput_per_s);
  if (latency_us) {
    out += fmt::format(", \"latency_us\": {{\"p50\": {}, \"p99\": {}, \"p999\": {}, \"max\": {}}}",
                       Number(latency_us->p50), Number(latency_us->p99), Number(latency_us->p999),
                       Number(latency_us->max));
  }
  if (!params.empty()) out += ", \"params\": " + JsonObject(params);
  if (!extra.empty()) out += ", \"extra\": " + JsonObject(extra);
  out += fmt::format(", \"machine\": {{\"cores\": {}, \"note\": {}}}}}", cores,
                     JsonString(machine_note));
  return out;
}

std::string BenchResult::ToTable() const {
  std::string out = fmt::format("{} ({} mode, {}, {})\n", workload, mode, durability, transport);
  const auto row = [&out](std::string_view name, const std::string& value) {
    out += fmt::format("  {:<22} {}\n", name, value);
  };
  row("commands", std::to_string(commands));
  row("seconds", fmt::format("{:.3f}", seconds));
  row("throughput", fmt::format("{:.0f} commands/s", throughput_per_s));
  if (latency_us) {
    row("submit->done (us)",
        fmt::format("p50 {}  p99 {}  p99.9 {}  max {}", Number(latency_us->p50),
                    Number(latency_us->p99), Number(latency_us->p999), Number(latency_us->max)));
  }
  for (const auto& [name, value] : params.fields()) row(name, value);
  for (const auto& [name, value] : extra.fields()) row(name, value);
  row("machine", fmt::format("{} cores; {}", cores, machine_note));
  return out;
}

void FillMachine(BenchResult& result) {
  result.cores = static_cast<int>(std::thread::hardware_concurrency());
  result.machine_note = "load generator and bus share the process and the machine";
}

}  // namespace cmdq::app
