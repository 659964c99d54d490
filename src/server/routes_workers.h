// The worker protocol's routes (docs/api.md, "Workers"): lease (long-poll), heartbeat,
// complete, fail, and POST /v1/completions (many outcomes, one Bus::Finish).
#pragma once

#include "server/router.h"
#include "server/server_context.h"

namespace cmdq::server {

void AddWorkerRoutes(Router& router, ServerContext& context);

}  // namespace cmdq::server
