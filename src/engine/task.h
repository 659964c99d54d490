// Task: the engine's handle on one queued command, owned by the partition that holds it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cmdq/command.h"
#include "cmdq/state.h"
#include "engine/handler_registry.h"

namespace cmdq::engine {

struct KeyQueue;

struct Task {
  std::shared_ptr<const Command> command;  // shared with the store's record
  TypeEntry* type = nullptr;
  uint32_t partition = 0;
  uint32_t attempt = 0;       // attempts started so far, as stored in the record
  uint32_t budget_start = 0;  // `attempt` when the current attempt budget began (re-drive)
  uint32_t max_attempts = 1;
  State state = State::kPending;  // pending, scheduled, or failed (waiting for its retry)
  int64_t due_us = 0;             // when a scheduled or failed task becomes runnable
  int64_t submitted_ns = 0;       // steady clock at submit, for submit->done latency
  int64_t run_us = 0;             // the last attempt's run time, for metrics
  int64_t offered_ns = 0;         // steady clock when last offered to remote workers
  Task* next = nullptr;           // the next task of the same key (ordered types)
  KeyQueue* key = nullptr;        // its key's queue (ordered types), while it is in one

  CommandId id() const { return command->id; }
  bool ordered() const { return type->options.ordered; }
};

// The tasks of one key, oldest first. Only the head may run; while it waits for its retry
// the key is blocked, and while a dead head is parked the key is held until re-driven.
struct KeyQueue {
  Task* head = nullptr;
  Task* tail = nullptr;
  bool head_active = false;  // head is ready, running, or waiting for its retry
  bool parked = false;
  std::string key;
  KeyQueue* same_hash = nullptr;  // the next queue whose key has the same 64-bit hash
};

}  // namespace cmdq::engine
