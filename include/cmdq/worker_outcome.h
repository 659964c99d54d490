// WorkerOutcome: how a remote worker's run of one leased command ended, as it reports it
// to the server (POST /v1/commands/{id}/complete|fail, or many at once with
// POST /v1/completions; docs/api.md, "Workers"). A plain value type.
#pragma once

#include <string>

#include "cmdq/command_id.h"

namespace cmdq {

struct WorkerOutcome {
  CommandId id;
  std::string lease;      // the token the command was leased with
  bool succeeded = true;  // true: `result`; false: a failure with `error`
  std::string result;     // bytes; sent as JSON when they are one JSON value, else base64
  std::string error;      // the failure's message (may be empty)
  bool retryable = true;  // false sends the command to dead at once
};

}  // namespace cmdq
