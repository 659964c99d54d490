// Bad input: every refusal names the field or the state, and changes nothing.
#include <gtest/gtest.h>

#include "engine/test_util.h"

namespace cmdq {
namespace {

using testing::Cmd;
using testing::MakeBus;
using testing::Returns;

class BusValidation : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    BusOptions o;
    o.mode = GetParam();
    o.max_payload_bytes = 1024;
    o.max_schedule_skew = std::chrono::hours(1);
    bus_ = MakeBus(o);
    ASSERT_TRUE(bus_->Register("t", Returns("ok")).ok());
    ASSERT_TRUE(bus_->Start().ok());
  }
  void ExpectRefused(Command c, const std::string& field) {
    auto r = bus_->Submit(std::move(c));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << r.error().ToString();
    EXPECT_EQ(r.error().field(), field) << r.error().ToString();
    auto page = bus_->List(ListQuery{});
    ASSERT_TRUE(page.has_value());
    EXPECT_TRUE(page->records.empty()) << "a refused submit stored something";
  }
  std::unique_ptr<Bus> bus_;
};

TEST_P(BusValidation, RejectsUnknownType) { ExpectRefused(Cmd("nope", "k"), "type"); }
TEST_P(BusValidation, RejectsEmptyType) { ExpectRefused(Cmd("", "k"), "type"); }
TEST_P(BusValidation, RejectsEmptyKey) { ExpectRefused(Cmd("t", ""), "key"); }
TEST_P(BusValidation, RejectsPayloadOverMaximum) {
  ExpectRefused(Cmd("t", "k", std::string(1025, 'x')), "payload");
}
TEST_P(BusValidation, RejectsNotBeforeFarInTheFuture) {
  Command c = Cmd("t", "k");
  c.not_before_us = SystemClock()->NowMicros() + 2LL * 3600 * 1'000'000;
  ExpectRefused(std::move(c), "not_before");
}
TEST_P(BusValidation, RejectsNotBeforeFarInThePast) {
  Command c = Cmd("t", "k");
  c.not_before_us = SystemClock()->NowMicros() - 2LL * 3600 * 1'000'000;
  ExpectRefused(std::move(c), "not_before");
}
TEST_P(BusValidation, RejectsAPresetId) {
  Command c = Cmd("t", "k");
  c.id = CommandId(42);
  ExpectRefused(std::move(c), "id");
}
TEST_P(BusValidation, RejectsEmptyHeaderName) {
  Command c = Cmd("t", "k");
  c.headers.emplace_back("", "v");
  ExpectRefused(std::move(c), "headers");
}
TEST_P(BusValidation, AcceptsPayloadAtTheMaximum) {
  EXPECT_TRUE(bus_->Submit(Cmd("t", "k", std::string(1024, 'x'))).has_value());
}

std::string ModeName(const ::testing::TestParamInfo<Mode>& mode) {
  return mode.param == Mode::kSync ? "Sync" : mode.param == Mode::kAsync ? "Async" : "Durable";
}

INSTANTIATE_TEST_SUITE_P(Modes, BusValidation,
                         ::testing::Values(Mode::kSync, Mode::kAsync, Mode::kDurable), ModeName);

TEST(BusRegister, RejectsBadTypeOptions) {
  auto bus = MakeBus();
  EXPECT_EQ(bus->Register("t", Returns(""), TypeOptions{.max_attempts = 0}).field(),
            "max_attempts");
  EXPECT_EQ(bus->Register("", Returns("")).field(), "type");
  EXPECT_EQ(bus->Register("t", Handler{}).field(), "execute");
  EXPECT_EQ(bus->Register("t", Returns(""), TypeOptions{.jitter = 1.5}).field(), "jitter");
  EXPECT_EQ(bus->Register("t", Returns(""), TypeOptions{.backoff_multiplier = 0.5}).field(),
            "backoff_multiplier");
  EXPECT_EQ(bus->Register("t", Returns(""), TypeOptions{.max_concurrency_per_key = 2}).field(),
            "max_concurrency_per_key");
  ASSERT_TRUE(bus->Register("t", Returns("")).ok());
  EXPECT_EQ(bus->Register("t", Returns("")).field(), "type");
  ASSERT_TRUE(bus->Start().ok());
  EXPECT_EQ(bus->Register("u", Returns("")).code(), StatusCode::kFailedPrecondition);
}

TEST(BusCreate, RejectsBadOptions) {
  auto make = [](BusOptions o) {
    BusDeps deps;
    deps.store = NewMemoryStore();
    return Bus::Create(std::move(o), std::move(deps));
  };
  EXPECT_EQ(make(BusOptions{.partitions = 0}).error().field(), "partitions");
  EXPECT_EQ(make(BusOptions{.queue_capacity = 0}).error().field(), "queue_capacity");
  EXPECT_EQ(make(BusOptions{.node_id = 5000}).error().field(), "node_id");
  EXPECT_EQ(Bus::Create({}, BusDeps{}).error().field(), "store");
}

TEST(BusLifecycle, RefusesSubmitsBeforeStartAndAfterStop) {
  auto bus = MakeBus();
  ASSERT_TRUE(bus->Register("t", Returns("")).ok());
  EXPECT_EQ(bus->Submit(Cmd("t", "k")).error().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(bus->Start().ok());
  EXPECT_EQ(bus->Start().code(), StatusCode::kFailedPrecondition);
  bus->Stop();
  EXPECT_EQ(bus->Submit(Cmd("t", "k")).error().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cmdq
