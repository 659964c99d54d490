#include "server/query_params.h"

#include <fmt/format.h>

#include "protocol/duration.h"
#include "protocol/query_parser.h"

namespace cmdq::server {

Result<std::optional<std::chrono::milliseconds>> ParseWaitQuery(
    std::string_view query, bool allow_wait, std::chrono::milliseconds max_wait) {
  std::optional<std::chrono::milliseconds> wait;
  while (!query.empty()) {
    const std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto name = protocol::PercentDecode(pair.substr(0, eq), "query");
    if (!name) return Error(name.error());
    if (!allow_wait || *name != "wait") {
      return Error(Status::InvalidArgument(*name, "unknown query parameter"));
    }
    if (wait) return Error(Status::InvalidArgument("wait", "wait appears twice"));
    auto value =
        protocol::PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), "wait");
    if (!value) return Error(value.error());
    auto duration = protocol::ParseDurationParam(*value, "wait");
    if (!duration) return Error(duration.error());
    if (*duration > max_wait) {
      return Error(Status::InvalidArgument(
          "wait",
          fmt::format("wait is longer than the server's maximum of {} ms", max_wait.count())));
    }
    wait = *duration;
  }
  return wait;
}

}  // namespace cmdq::server
