#include "server/routes_health.h"

#include "server/responses.h"

namespace cmdq::server {

void AddHealthRoutes(Router& router, ServerContext& context) {
  router.Add(http::verb::get, "/healthz", Access::kOpen,
             [](RequestContext&) -> asio::awaitable<HttpResponse> {
               co_return OkJson(R"({"status":"ok"})");
             });
  router.Add(http::verb::get, "/readyz", Access::kOpen,
             [&context](RequestContext&) -> asio::awaitable<HttpResponse> {
               if (context.ready.load()) co_return OkJson(R"({"status":"ready"})");
               co_return ErrorResponse(Status::Unavailable("not ready: starting or stopping"));
             });
}

}  // namespace cmdq::server
