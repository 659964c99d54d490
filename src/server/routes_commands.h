// The command routes of API v1 (docs/api.md): submit (one or a batch, ?wait=), get
// (?wait=), list, audit, cancel, undo, redrive.
#pragma once

#include "server/router.h"
#include "server/server_context.h"

namespace cmdq::server {

void AddCommandRoutes(Router& router, ServerContext& context);

}  // namespace cmdq::server
