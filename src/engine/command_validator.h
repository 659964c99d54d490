// Checks a submitted command before anything is stored: every refusal names the field.
#pragma once

#include <cstdint>

#include "cmdq/bus.h"
#include "cmdq/command.h"
#include "cmdq/status.h"
#include "engine/handler_registry.h"

namespace cmdq::engine {

// `type` is the registry entry of command.type, or null when unknown.
Status ValidateCommand(const Command& command, const TypeEntry* type, const BusOptions& options,
                       int64_t now_us);

}  // namespace cmdq::engine
