#include "protocol/duration.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>

namespace cmdq::protocol {

Result<std::chrono::milliseconds> ParseDurationParam(std::string_view text,
                                                     std::string_view field) {
  constexpr uint64_t kMaxMs = 86'400'000;  // a day: far above any wait; keeps ms in range
  uint64_t number = 0;
  const char* last = text.data() + text.size();
  auto [end, error] = std::from_chars(text.data(), last, number);
  const std::string_view unit(end, static_cast<size_t>(last - end));
  const uint64_t scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60'000 : 0;
  if (error != std::errc() || end == text.data() || scale == 0 || number > kMaxMs / scale) {
    return Error(Status::InvalidArgument(
        std::string(field), fmt::format("{} must be a duration such as 500ms, 2s or 1m", field)));
  }
  return std::chrono::milliseconds(static_cast<int64_t>(number * scale));
}

}  // namespace cmdq::protocol
