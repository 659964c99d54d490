#include "cmdq/state.h"

#include <array>
#include <string>

namespace cmdq {
namespace {

constexpr std::array<std::string_view, kStateCount> kNames = {"none",    "pending",   "scheduled",
                                                              "running", "succeeded", "failed",
                                                              "dead",    "cancelled", "undone"};

bool Valid(State s) { return static_cast<int>(s) < kStateCount; }

// kAllowed[from][to]: the life cycle of state.h, as data so a reader checks it at a glance.
constexpr auto kAllowed = [] {
  std::array<std::array<bool, kStateCount>, kStateCount> t{};
  auto allow = [&t](State from, State to) {
    t[static_cast<size_t>(from)][static_cast<size_t>(to)] = true;
  };
  allow(State::kNone, State::kPending);
  allow(State::kNone, State::kScheduled);
  allow(State::kScheduled, State::kPending);
  allow(State::kScheduled, State::kCancelled);
  allow(State::kPending, State::kRunning);
  allow(State::kPending, State::kCancelled);
  allow(State::kRunning, State::kSucceeded);
  allow(State::kRunning, State::kFailed);
  allow(State::kRunning, State::kPending);  // lease lost
  allow(State::kFailed, State::kPending);   // retry
  allow(State::kFailed, State::kDead);
  allow(State::kFailed, State::kCancelled);
  allow(State::kSucceeded, State::kUndone);
  allow(State::kDead, State::kPending);  // re-drive
  return t;
}();

}  // namespace

std::string_view StateName(State state) {
  return Valid(state) ? kNames[static_cast<size_t>(state)] : std::string_view("unknown");
}

Result<State> ParseState(std::string_view name) {
  // Starts at 1: kNone is an audit marker, never a state a caller may ask for.
  for (size_t i = 1; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      return static_cast<State>(i);
    }
  }
  return Error(Status::InvalidArgument("state", "unknown state '" + std::string(name) + "'"));
}

bool IsTerminal(State state) {
  return state == State::kSucceeded || state == State::kDead || state == State::kCancelled ||
         state == State::kUndone;
}

Status CheckTransition(State from, State to) {
  if (Valid(from) && Valid(to) && kAllowed[static_cast<size_t>(from)][static_cast<size_t>(to)]) {
    return Status::Ok();
  }
  std::string message = "cannot move a command from ";
  message.append(StateName(from)).append(" to ").append(StateName(to));
  return Status::FailedPrecondition(std::move(message));
}

}  // namespace cmdq
