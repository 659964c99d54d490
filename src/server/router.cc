#include "server/router.h"

#include <fmt/format.h>

#include "server/responses.h"

namespace cmdq::server {
namespace {

// Matches `path` against `pattern` segment by segment; fills `params` on success.
bool MatchPath(std::string_view pattern, std::string_view path,
               std::vector<std::string_view>& params) {
  params.clear();
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern[0] != '/' || path[0] != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const std::string_view want = pattern.substr(0, pattern.find('/'));
    const std::string_view got = path.substr(0, path.find('/'));
    if (want.starts_with('{')) {
      params.push_back(got);
    } else if (want != got) {
      return false;
    }
    pattern.remove_prefix(want.size());
    path.remove_prefix(got.size());
  }
  return true;
}

}  // namespace

void Router::Add(http::verb method, std::string pattern, Access access, RouteHandler handler) {
  std::string name = fmt::format("{} {}", std::string_view(http::to_string(method)), pattern);
  routes_.push_back({method, std::move(pattern), std::move(name), access, std::move(handler)});
}

std::variant<Router::Match, HttpResponse> Router::Find(http::verb method,
                                                       std::string_view path) const {
  std::vector<std::string_view> params;
  std::string allow;
  for (const Route& route : routes_) {
    if (!MatchPath(route.pattern, path, params)) continue;
    if (route.method == method) return Match{&route, std::move(params)};
    if (!allow.empty()) allow += ", ";
    allow += std::string_view(http::to_string(route.method));
  }
  if (allow.empty()) {
    return ErrorResponse(Status::NotFound(fmt::format("no route {}", path)));
  }
  HttpResponse response =
      ErrorResponse(http::status::method_not_allowed,
                    Status(StatusCode::kInvalidArgument,
                           fmt::format("{} does not take {}; it takes {}", path,
                                       std::string_view(http::to_string(method)), allow),
                           "method"));
  response.set(http::field::allow, allow);
  return response;
}

}  // namespace cmdq::server
