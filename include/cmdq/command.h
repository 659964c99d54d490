// Command: what a client submits — a type, a partition key and a payload, plus options.
// A plain value type. The Bus fills `id` and `created_at_us` at submit.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cmdq/command_id.h"

namespace cmdq {

struct Command {
  CommandId id;                  // assigned at submit; leave empty
  std::string type;              // a registered handler type, e.g. "email.send"; required
  std::string key;               // partition key, e.g. a user id; same key => FIFO; required
  std::string payload;           // bytes; at most BusOptions::max_payload_bytes
  bool payload_is_json = false;  // how the payload arrived (the HTTP API echoes it back)
  std::string idempotency_key;   // optional: a repeat within the dedup window returns
                                 // the original command instead of a new one
  std::vector<std::pair<std::string, std::string>> headers;  // small string map
  int64_t not_before_us = 0;  // unix µs; 0 = run as soon as possible
  uint32_t max_attempts = 0;  // 0 = the type's default
  uint32_t timeout_ms = 0;    // per-attempt timeout; 0 = the type's default
  int64_t created_at_us = 0;  // unix µs; set at submit
};

}  // namespace cmdq
