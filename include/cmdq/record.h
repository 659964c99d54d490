// Record: a command plus everything that happened to it. AuditEvent: one transition.
// Plain value types, returned by copy from the Bus and the Store.
#pragma once

#include <cstdint>
#include <string>

#include "cmdq/command.h"
#include "cmdq/state.h"

namespace cmdq {

struct Record {
  Command command;
  State state = State::kPending;
  uint32_t attempt = 0;          // attempts started so far (1 during the first run)
  std::string lease_worker;      // who runs it now (empty unless running)
  int64_t lease_expires_us = 0;  // unix µs; 0 = no lease
  std::string result;            // the handler's result once succeeded
  std::string error;             // the last attempt's error message, if any
  int64_t next_attempt_us = 0;   // unix µs of the next retry while failed; else 0
  int64_t updated_at_us = 0;     // unix µs of the last transition
};

struct AuditEvent {
  CommandId id;
  uint32_t sequence = 0;  // 0, 1, 2... per command, in the order the events happened
  int64_t time_us = 0;    // unix µs
  State from = State::kNone;
  State to = State::kNone;
  uint32_t attempt = 0;
  std::string worker;   // who made the transition happen, if a worker did
  std::string message;  // the error, or a note such as "cancelled by request"
};

}  // namespace cmdq
