#include "client/target_url.h"

#include <fmt/format.h>

#include <charconv>

namespace cmdq::client {
namespace {

Status Bad(std::string_view url, std::string_view why) {
  return Status::InvalidArgument(
      "target", fmt::format("target \"{}\" {}: want http://host[:port]", url, why));
}

bool ValidPort(std::string_view text) {
  unsigned port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  return error == std::errc() && end == text.data() + text.size() && port >= 1 && port <= 65535;
}

}  // namespace

Result<TargetUrl> ParseTargetUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return Error(Bad(url, url.starts_with("https://") ? "uses https, which is not supported"
                                                      : "does not start with http://"));
  }
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#@") != std::string_view::npos) {
    return Error(Bad(url, "has user info, a query or a fragment"));
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);

  TargetUrl target;
  target.host_header = std::string(authority);
  std::string_view port;
  if (authority.starts_with('[')) {  // [::1]:7700
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Error(Bad(url, "has an unclosed [ in its host"));
    target.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return Error(Bad(url, "has junk after ]"));
    if (!after.empty()) port = after.substr(1);
  } else {
    const size_t colon = authority.rfind(':');
    target.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (target.host.empty()) return Error(Bad(url, "has no host"));
  if (authority.find(':') != std::string_view::npos && !ValidPort(port)) {
    return Error(Bad(url, "has a port outside 1..65535"));
  }
  if (!port.empty()) target.port = std::string(port);
  target.base_path = std::string(path);
  return target;
}

}  // namespace cmdq::client
