// /healthz (200 while the process lives) and /readyz (200 while serving, 503 before the
// Bus runs and once a stop began): for load balancers and orchestrators.
#pragma once

#include "server/router.h"
#include "server/server_context.h"

namespace cmdq::server {

void AddHealthRoutes(Router& router, ServerContext& context);

}  // namespace cmdq::server
