// ParseDuration: the "500ms" / "2s" / "1m" spelling of ?wait= and the CLI's flags.
#include <fmt/format.h>

#include <charconv>

#include "cmdq/client.h"

namespace cmdq {

Result<std::chrono::milliseconds> ParseDuration(std::string_view text, std::string_view field) {
  uint64_t number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  const std::string_view unit(end, text.data() + text.size() - end);
  int64_t scale = 0;
  if (unit == "ms") scale = 1;
  if (unit == "s") scale = 1000;
  if (unit == "m") scale = 60'000;
  // A day is far above any wait the API allows; the bound keeps the product in range.
  if (error != std::errc() || end == text.data() || scale == 0 || number > 86'400'000) {
    return Error(Status::InvalidArgument(
        std::string(field),
        fmt::format("{} \"{}\" is not a duration such as 500ms, 2s or 1m", field, text)));
  }
  return std::chrono::milliseconds(static_cast<int64_t>(number) * scale);
}

}  // namespace cmdq
