#include "pipelined_producer.h"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace cmdq::peers {
namespace {

// Writes nothing; each confirmation it reads covers the next count queued in `confirms`.
class FakeProducer final : public PipelinedProducer {
 public:
  explicit FakeProducer(int window) : PipelinedProducer(window) {}
  std::deque<uint64_t> confirms;
  int reads = 0;

 private:
  Status Write(std::span<const std::string>) override { return Status::Ok(); }
  Result<uint64_t> ReadConfirmation() override {
    ++reads;
    if (confirms.empty()) return Error(Status::Unavailable("no more confirmations"));
    const uint64_t n = confirms.front();
    confirms.pop_front();
    return n;
  }
};

TEST(PipelinedProducer, ReadsOnlyAboveTheWindow) {
  FakeProducer producer(4);
  const std::vector<std::string> batch(3, "m");
  ASSERT_TRUE(producer.Send(batch).ok());  // 3 unconfirmed: within the window
  EXPECT_EQ(producer.reads, 0);
  producer.confirms = {0, 2};              // a frame that confirms nothing, then 2
  ASSERT_TRUE(producer.Send(batch).ok());  // 6 -> 6 -> 4
  EXPECT_EQ(producer.reads, 2);
}

TEST(PipelinedProducer, DrainReadsEverything) {
  FakeProducer producer(256);
  const std::vector<std::string> batch(5, "m");
  ASSERT_TRUE(producer.Send(batch).ok());
  producer.confirms = {1, 4};
  ASSERT_TRUE(producer.Drain().ok());
  EXPECT_TRUE(producer.confirms.empty());
}

TEST(PipelinedProducer, MoreConfirmationsThanSubmitsIsAnError) {
  FakeProducer producer(0);
  producer.confirms = {2};
  EXPECT_FALSE(producer.Send(std::vector<std::string>(1, "m")).ok());
}

TEST(PipelinedProducer, AFailedReadIsReturned) {
  FakeProducer producer(0);
  EXPECT_EQ(producer.Send(std::vector<std::string>(1, "m")).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cmdq::peers
