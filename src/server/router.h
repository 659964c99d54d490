// Router: maps a method and a path to a route. Patterns are literal segments and "{name}"
// parameters ("/v1/commands/{id}/audit"); a path that matches a pattern under another
// method answers 405 with Allow, one that matches none 404 (docs/api.md). Routes are
// added before the server starts; Find is then thread-safe (read-only).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server/http_types.h"

namespace cmdq::server {

// What a request needs to be allowed (auth checks it; DESIGN.md §6 scopes).
enum class Access { kOpen, kSubmit, kRead, kWork, kAdmin };

// What a route's handler gets.
struct RequestContext {
  const HttpRequest& request;
  std::vector<std::string_view> params;  // the "{...}" segments, in pattern order
  std::string_view query;                // after '?', without it; may be empty
};

using RouteHandler = std::function<asio::awaitable<HttpResponse>(RequestContext&)>;

struct Route {
  http::verb method;
  std::string pattern;
  std::string name;  // names the route in metrics: "POST /v1/commands/{id}/cancel"
  Access access;
  RouteHandler handler;
};

class Router {
 public:
  void Add(http::verb method, std::string pattern, Access access, RouteHandler handler);

  struct Match {
    const Route* route;
    std::vector<std::string_view> params;  // point into the path given to Find
  };
  // The route, or the 404/405 answer.
  std::variant<Match, HttpResponse> Find(http::verb method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace cmdq::server
