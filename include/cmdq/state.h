// The life cycle of a command (DESIGN.md §2) and its legal transitions.
//
//   (new) -> pending | scheduled
//   scheduled -> pending | cancelled
//   pending   -> running | cancelled
//   running   -> succeeded | failed | pending (lease lost: counts an attempt)
//   failed    -> pending (retry after backoff) | dead | cancelled
//   succeeded -> undone
//   dead      -> pending (re-drive)
// Anything else is refused with kFailedPrecondition, never a crash.
#pragma once

#include <cstdint>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq {

// Persisted: the numbers are part of the storage format and are never reused.
enum class State : uint8_t {
  kNone = 0,  // "did not exist": the `from` of a command's first audit event
  kPending = 1,
  kScheduled = 2,
  kRunning = 3,
  kSucceeded = 4,
  kFailed = 5,
  kDead = 6,
  kCancelled = 7,
  kUndone = 8,
};
inline constexpr int kStateCount = 9;

std::string_view StateName(State state);          // "pending", ...; "none" for kNone
Result<State> ParseState(std::string_view name);  // the inverse; kNone is not accepted
bool IsTerminal(State state);                     // succeeded, dead, cancelled, undone
Status CheckTransition(State from, State to);     // OK or kFailedPrecondition

}  // namespace cmdq
