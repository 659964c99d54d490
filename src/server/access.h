// How the routes apply the ops modules of server_ops.h: access control in two steps, the
// submit rate limit, and GET /metrics (docs/operations.md).
//
// Access control: the gate (AuthGate) runs before every route and checks the token and the
// route's scope; a route that learns a command key (a submit's body, a loaded record, a
// list's key= filter) then calls CheckKey before it stores or answers anything, so that a
// key-limited token only ever touches its keys. Routes about no key (the worker protocol)
// need only the gate: keys do not limit `work`.
//
// Thread-safety: pure functions over modules that are themselves thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "cmdq/command.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/server_context.h"

namespace cmdq::server {

// The token scope a route's access level asks for; nullopt for open routes.
std::optional<Scope> ScopeOf(Access access);

// The answer to a refused Check: 401 with `WWW-Authenticate: Bearer`, else 403.
HttpResponse AccessDenied(const Status& refusal);

// Token + scope, before the route runs. Open routes (/healthz, /readyz) always pass.
RequestGate AuthGate(const Authorizer& auth);

// May this request touch `key` (empty: no one key) with its route's access? nullopt
// when it may (always without auth), else the 401/403.
std::optional<HttpResponse> CheckKey(const ServerOps& ops, const HttpRequest& request,
                                     Access access, std::string_view key);

// Rate-limits one submit request: one Acquire per distinct key, with that key's number
// of commands. nullopt when every key is within its limit (or there is no limiter), else
// the 429 with `Retry-After`, the longest wait of the keys over the limit. The whole
// request is then refused; keys acquired before the refusal keep their debit, so a client
// hammering a mixed batch slows itself down on every key of it.
std::optional<HttpResponse> AdmitSubmit(RateLimiter* limiter, std::span<const Command> commands);

// GET /metrics (needs `read` on every key: a key-limited token is refused).
void AddMetricsRoute(Router& router, ServerContext& context);

}  // namespace cmdq::server
