#include "cmdq/command_id.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

namespace cmdq {
namespace {

// Iterations scaled by CMDQ_TEST_SCALE (a float; the tsan preset sets 0.05), at least 1000.
size_t Scaled(size_t n) {
  const char* env = std::getenv("CMDQ_TEST_SCALE");
  double scale = env != nullptr ? std::strtod(env, nullptr) : 1.0;
  if (!(scale > 0)) scale = 1.0;
  return std::max<size_t>(1000, static_cast<size_t>(static_cast<double>(n) * scale));
}

constexpr int64_t kStartUs = 1'767'225'600'000'000;  // 2026-01-01
constexpr int64_t kStartMs = kStartUs / 1000;

TEST(CommandId, LayoutIsMillisNodeSequence) {
  ManualClock clock(kStartUs);
  IdGenerator gen(5, &clock);
  CommandId id = gen.Next();
  uint64_t ms = static_cast<uint64_t>(kStartMs - CommandId::kEpochUnixMs);
  EXPECT_EQ(id.value(), (ms << 22) | (5u << 12));
  EXPECT_EQ(id.unix_ms(), kStartMs);
  EXPECT_TRUE(id.valid());
  EXPECT_FALSE(CommandId().valid());
}

TEST(CommandId, TextFormIsFixedWidthLowercaseHex) {
  EXPECT_EQ(CommandId(1).ToString(), "0000000000000001");
  EXPECT_EQ(CommandId(0xABCDEF).ToString(), "0000000000abcdef");
  EXPECT_EQ(CommandId(~uint64_t{0}).ToString(), "ffffffffffffffff");
}

TEST(CommandId, TextFormSortsLikeNumber) {
  std::mt19937_64 rng(7);
  std::vector<CommandId> ids;
  for (int i = 0; i < 2000; ++i) {
    // Mixed magnitudes so that some texts would sort wrongly without the zero padding.
    ids.emplace_back(rng() >> (rng() % 64));
  }
  for (size_t i = 1; i < ids.size(); ++i) {
    CommandId a = ids[i - 1];
    CommandId b = ids[i];
    EXPECT_EQ(a < b, a.ToString() < b.ToString()) << a.ToString() << " " << b.ToString();
  }
}

TEST(CommandId, ParseRoundTrips) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 1000; ++i) {
    CommandId id(rng() | 1);
    auto parsed = CommandId::Parse(id.ToString());
    ASSERT_TRUE(parsed.has_value()) << id.ToString();
    EXPECT_EQ(*parsed, id);
  }
}

TEST(CommandId, ParseRejectsEachBadForm) {
  const char* bad[] = {
      "",                   // empty
      "1",                  // short
      "000000000000001",    // 15 digits
      "00000000000000001",  // 17 digits
      "0000000000ABCDEF",   // uppercase
      "0000000000abcdeg",   // not hex
      "0x00000000000001",   // prefix
      " 000000000000001",   // space
      "000000000000001 ",   // trailing space
      "-000000000000001",   // sign
      "0000000000000000",   // the zero id
  };
  for (const char* text : bad) {
    auto parsed = CommandId::Parse(text);
    ASSERT_FALSE(parsed.has_value()) << "'" << text << "'";
    EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parsed.error().field(), "id");
  }
  std::string with_nul(16, '0');
  with_nul[12] = '\0';  // an embedded NUL; a string literal would end the view early
  EXPECT_FALSE(CommandId::Parse(with_nul).has_value());
}

TEST(CommandId, FirstAtBoundsATimeRange) {
  ManualClock clock(kStartUs);
  IdGenerator gen(1023, &clock);
  CommandId id = gen.Next();
  EXPECT_EQ(CommandId::FirstAt(kStartMs).value(),
            static_cast<uint64_t>(kStartMs - CommandId::kEpochUnixMs) << 22);
  EXPECT_LE(CommandId::FirstAt(kStartMs), id);
  EXPECT_LT(id, CommandId::FirstAt(kStartMs + 1));
  EXPECT_EQ(CommandId::FirstAt(kStartMs).unix_ms(), kStartMs);
  // Before the epoch there is nothing smaller than zero.
  EXPECT_EQ(CommandId::FirstAt(0).value(), 0u);
}

TEST(IdGenerator, SequenceOverflowBorrowsNextMillisecond) {
  ManualClock clock(kStartUs);  // never advanced: all ids are asked for in one ms
  IdGenerator gen(3, &clock);
  CommandId prev;
  for (int i = 0; i < 4096; ++i) {
    CommandId id = gen.Next();
    EXPECT_EQ(id.unix_ms(), kStartMs);
    EXPECT_EQ(id.value() & 0xFFF, static_cast<uint64_t>(i));
    EXPECT_EQ((id.value() >> 12) & 0x3FF, 3u);
    EXPECT_LT(prev, id);
    prev = id;
  }
  CommandId borrowed = gen.Next();
  EXPECT_EQ(borrowed.unix_ms(), kStartMs + 1);
  EXPECT_EQ(borrowed.value() & 0xFFF, 0u);
  EXPECT_EQ((borrowed.value() >> 12) & 0x3FF, 3u);
  EXPECT_LT(prev, borrowed);
  EXPECT_EQ(gen.Next().value(), borrowed.value() + 1);

  // Once the clock passes the borrowed millisecond, ids follow the clock again.
  clock.Advance(10'000);
  CommandId later = gen.Next();
  EXPECT_EQ(later.unix_ms(), kStartMs + 10);
  EXPECT_EQ(later.value() & 0xFFF, 0u);
}

TEST(IdGenerator, ClockGoingBackwardsKeepsIdsIncreasing) {
  ManualClock clock(kStartUs);
  IdGenerator gen(0, &clock);
  CommandId a = gen.Next();
  clock.Set(kStartUs - 60'000'000);
  CommandId b = gen.Next();
  EXPECT_LT(a, b);
}

TEST(IdGenerator, NodeAboveMaxIsClamped) {
  ManualClock clock(kStartUs);
  IdGenerator gen(5000, &clock);
  EXPECT_EQ(gen.node(), CommandId::kMaxNode);
  EXPECT_EQ((gen.Next().value() >> 12) & 0x3FF, CommandId::kMaxNode);
}

TEST(IdGenerator, UniqueAndIncreasingAcrossThreads) {
  constexpr int kThreads = 8;
  const size_t per_thread = Scaled(200'000);
  IdGenerator gen(7);  // the real clock: contention and clock ticks both happen
  std::vector<std::vector<CommandId>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = made[static_cast<size_t>(t)];
      mine.reserve(per_thread);
      for (size_t i = 0; i < per_thread; ++i) mine.push_back(gen.Next());
    });
  }
  for (auto& thread : threads) thread.join();

  std::vector<CommandId> all;
  all.reserve(per_thread * kThreads);
  for (const auto& mine : made) {
    for (size_t i = 1; i < mine.size(); ++i) {
      ASSERT_LT(mine[i - 1], mine[i]) << "not strictly increasing within a thread";
    }
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "duplicate id";
  EXPECT_EQ(all.size(), per_thread * kThreads);
}

}  // namespace
}  // namespace cmdq
