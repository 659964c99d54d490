#include "server/access.h"

#include <algorithm>
#include <string>
#include <unordered_map>

#include "server/blocking_call.h"
#include "server/metrics.h"
#include "server/rate_limiter.h"
#include "server/responses.h"

namespace cmdq::server {

std::optional<Scope> ScopeOf(Access access) {
  switch (access) {
    case Access::kOpen:
      return std::nullopt;
    case Access::kSubmit:
      return Scope::kSubmit;
    case Access::kRead:
      return Scope::kRead;
    case Access::kWork:
      return Scope::kWork;
    case Access::kAdmin:
      return Scope::kAdmin;
  }
  return Scope::kAdmin;  // an unknown level asks for the most
}

HttpResponse AccessDenied(const Status& refusal) {
  HttpResponse response = ErrorResponse(refusal);
  if (refusal.code() == StatusCode::kUnauthenticated) {
    response.set(http::field::www_authenticate, "Bearer");
  }
  return response;
}

namespace {

std::string_view AuthorizationOf(const HttpRequest& request) {
  auto found = request.find(http::field::authorization);
  if (found == request.end()) return {};
  return {found->value().data(), found->value().size()};
}

}  // namespace

RequestGate AuthGate(const Authorizer& auth) {
  return [&auth](const HttpRequest& request, const Route& route) -> std::optional<HttpResponse> {
    const std::optional<Scope> scope = ScopeOf(route.access);
    if (!scope || !auth.enabled()) return std::nullopt;
    Status s = auth.CheckScope(AuthorizationOf(request), *scope);
    if (s.ok()) return std::nullopt;
    return AccessDenied(s);
  };
}

std::optional<HttpResponse> CheckKey(const ServerOps& ops, const HttpRequest& request,
                                     Access access, std::string_view key) {
  const std::optional<Scope> scope = ScopeOf(access);
  if (ops.auth == nullptr || !ops.auth->enabled() || !scope) return std::nullopt;
  Status s = ops.auth->Check(AuthorizationOf(request), *scope, key);
  if (s.ok()) return std::nullopt;
  return AccessDenied(s);
}

std::optional<HttpResponse> AdmitSubmit(RateLimiter* limiter, std::span<const Command> commands) {
  if (limiter == nullptr || !limiter->enabled() || commands.empty()) return std::nullopt;
  RateDecision refused{.allowed = true};
  auto acquire = [&](std::string_view key, uint32_t n) {
    RateDecision d = limiter->Acquire(key, n);
    if (!d.allowed) {
      refused.allowed = false;
      refused.retry_after_us = std::max(refused.retry_after_us, d.retry_after_us);
    }
  };
  if (commands.size() == 1) {
    acquire(commands.front().key, 1);
  } else {
    std::unordered_map<std::string_view, uint32_t> per_key;
    for (const Command& c : commands) ++per_key[c.key];
    for (const auto& [key, n] : per_key) acquire(key, n);
  }
  if (refused.allowed) return std::nullopt;
  HttpResponse response = ErrorResponse(refused.ToStatus());
  response.set(http::field::retry_after, std::to_string(refused.RetryAfterSeconds()));
  return response;
}

void AddMetricsRoute(Router& router, ServerContext& context) {
  router.Add(http::verb::get, "/metrics", Access::kRead,
             [&context](RequestContext& rc) -> asio::awaitable<HttpResponse> {
               if (auto denied = CheckKey(context.ops, rc.request, Access::kRead, {})) {
                 co_return std::move(*denied);
               }
               // Render reads the Bus's partitions, which may wait on their locks.
               auto render = [&context] { return context.ops.metrics->Render(); };
               std::string text = co_await RunBlocking(context.blocking, render);
               HttpResponse response{http::status::ok, 11};
               response.set(http::field::content_type, "text/plain; version=0.0.4");
               response.body() = std::move(text);
               co_return response;
             });
}

}  // namespace cmdq::server
