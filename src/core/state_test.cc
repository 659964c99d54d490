#include "cmdq/state.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace cmdq {
namespace {

using S = State;

const std::set<std::pair<S, S>>& Legal() {
  static const auto* legal = new std::set<std::pair<S, S>>{
      {S::kNone, S::kPending},        {S::kNone, S::kScheduled},  {S::kScheduled, S::kPending},
      {S::kScheduled, S::kCancelled}, {S::kPending, S::kRunning}, {S::kPending, S::kCancelled},
      {S::kRunning, S::kSucceeded},   {S::kRunning, S::kFailed},  {S::kRunning, S::kPending},
      {S::kFailed, S::kPending},      {S::kFailed, S::kDead},     {S::kFailed, S::kCancelled},
      {S::kSucceeded, S::kUndone},    {S::kDead, S::kPending},
  };
  return *legal;
}

TEST(State, AcceptsEveryLegalTransition) {
  for (const auto& [from, to] : Legal()) {
    EXPECT_TRUE(CheckTransition(from, to).ok()) << StateName(from) << " -> " << StateName(to);
  }
}

TEST(State, RefusesEveryOtherTransition) {
  int refused = 0;
  for (int f = 0; f < kStateCount; ++f) {
    for (int t = 0; t < kStateCount; ++t) {
      auto from = static_cast<S>(f);
      auto to = static_cast<S>(t);
      if (Legal().contains({from, to})) continue;
      Status s = CheckTransition(from, to);
      EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << f << " -> " << t;
      ++refused;
    }
  }
  EXPECT_EQ(refused, kStateCount * kStateCount - static_cast<int>(Legal().size()));
}

TEST(State, RefusalSaysWhichMove) {
  struct Case {
    S from, to;
    const char* message;
  };
  const Case cases[] = {
      {S::kSucceeded, S::kPending, "cannot move a command from succeeded to pending"},
      {S::kDead, S::kRunning, "cannot move a command from dead to running"},
      {S::kCancelled, S::kPending, "cannot move a command from cancelled to pending"},
      {S::kUndone, S::kSucceeded, "cannot move a command from undone to succeeded"},
      {S::kPending, S::kSucceeded, "cannot move a command from pending to succeeded"},
      {S::kScheduled, S::kRunning, "cannot move a command from scheduled to running"},
      {S::kRunning, S::kCancelled, "cannot move a command from running to cancelled"},
      {S::kPending, S::kPending, "cannot move a command from pending to pending"},
      {S::kNone, S::kRunning, "cannot move a command from none to running"},
      {S::kRunning, S::kNone, "cannot move a command from running to none"},
  };
  for (const Case& c : cases) {
    Status s = CheckTransition(c.from, c.to);
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(), c.message);
  }
}

TEST(State, OutOfRangeValuesAreRefusedNotCrashed) {
  auto bogus = static_cast<S>(42);
  EXPECT_EQ(StateName(bogus), "unknown");
  EXPECT_FALSE(IsTerminal(bogus));
  EXPECT_EQ(CheckTransition(bogus, S::kPending).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckTransition(S::kPending, bogus).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckTransition(static_cast<S>(255), static_cast<S>(255)).code(),
            StatusCode::kFailedPrecondition);
}

TEST(State, NamesRoundTrip) {
  const char* names[] = {"none",   "pending", "scheduled", "running", "succeeded",
                         "failed", "dead",    "cancelled", "undone"};
  for (int i = 0; i < kStateCount; ++i) {
    EXPECT_EQ(StateName(static_cast<S>(i)), names[i]);
    if (i == 0) continue;
    auto parsed = ParseState(names[i]);
    ASSERT_TRUE(parsed.has_value()) << names[i];
    EXPECT_EQ(*parsed, static_cast<S>(i));
  }
}

TEST(State, ParseRefusesNoneAndUnknownNames) {
  for (const char* bad : {"none", "", "PENDING", "Pending", "pending ", "bogus"}) {
    auto parsed = ParseState(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parsed.error().field(), "state");
  }
}

TEST(State, TerminalStates) {
  EXPECT_TRUE(IsTerminal(S::kSucceeded));
  EXPECT_TRUE(IsTerminal(S::kDead));
  EXPECT_TRUE(IsTerminal(S::kCancelled));
  EXPECT_TRUE(IsTerminal(S::kUndone));
  EXPECT_FALSE(IsTerminal(S::kNone));
  EXPECT_FALSE(IsTerminal(S::kPending));
  EXPECT_FALSE(IsTerminal(S::kScheduled));
  EXPECT_FALSE(IsTerminal(S::kRunning));
  EXPECT_FALSE(IsTerminal(S::kFailed));
}

TEST(State, PersistedNumbersNeverChange) {
  EXPECT_EQ(static_cast<int>(S::kNone), 0);
  EXPECT_EQ(static_cast<int>(S::kPending), 1);
  EXPECT_EQ(static_cast<int>(S::kScheduled), 2);
  EXPECT_EQ(static_cast<int>(S::kRunning), 3);
  EXPECT_EQ(static_cast<int>(S::kSucceeded), 4);
  EXPECT_EQ(static_cast<int>(S::kFailed), 5);
  EXPECT_EQ(static_cast<int>(S::kDead), 6);
  EXPECT_EQ(static_cast<int>(S::kCancelled), 7);
  EXPECT_EQ(static_cast<int>(S::kUndone), 8);
}

}  // namespace
}  // namespace cmdq
