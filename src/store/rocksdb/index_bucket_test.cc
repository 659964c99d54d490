#include "store/rocksdb/index_bucket.h"

#include <gtest/gtest.h>

#include "store/rocksdb/key_format.h"

namespace cmdq::rocksdb_store {
namespace {

TEST(IndexBucket, RoundTripsIdsWithSmallAndHugeGaps) {
  for (const std::vector<uint64_t>& ids :
       {std::vector<uint64_t>{7}, {1, 2, 3}, {5, 300, 70'000, ~uint64_t{0}}}) {
    auto back = DecodeIdBucket(EncodeIdBucket(ids), ids.front());
    ASSERT_TRUE(back.has_value()) << back.error().ToString();
    EXPECT_EQ(*back, ids);
  }
  // Neighbouring ids take a byte each.
  std::vector<uint64_t> run(1000);
  for (size_t i = 0; i < run.size(); ++i) run[i] = 1'000'000 + i;
  EXPECT_EQ(EncodeIdBucket(run).size(), 2u + 999u);
}

TEST(IndexBucket, RefusesDamagedValuesWithCorruption) {
  const std::string good = EncodeIdBucket(std::vector<uint64_t>{10, 11, 500});
  struct Case {
    std::string value;
    uint64_t lowest;
    const char* what;
  };
  const std::vector<Case> cases = {
      {"", 10, "truncated count"},
      {std::string(1, '\x80'), 10, "truncated count"},
      {std::string(1, '\0'), 10, "empty"},
      {good.substr(0, good.size() - 1), 10, "truncated gap"},
      {good + "x", 10, "after the last id"},
      {std::string("\x02\x00", 2), 10, "zero gap"},
      {std::string("\x05\x01", 2), 10, "count larger"},
      {std::string("\x02\x02", 2), ~uint64_t{0}, "overflow"},
      {std::string(11, '\xff'), 10, "truncated count"},
  };
  for (const Case& c : cases) {
    auto ids = DecodeIdBucket(c.value, c.lowest);
    ASSERT_FALSE(ids.has_value()) << c.what;
    EXPECT_EQ(ids.error().code(), StatusCode::kCorruption);
    EXPECT_NE(ids.error().message().find(c.what), std::string::npos) << ids.error().message();
  }
}

TEST(KeyFormat, VarintsRoundTripAndRefuseOverlongInput) {
  for (uint64_t n : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{1} << 35, ~uint64_t{0}}) {
    std::string out;
    AppendVarint(out, n);
    std::string_view in = out;
    EXPECT_EQ(ReadVarint(in), n);
    EXPECT_TRUE(in.empty());
  }
  std::string_view too_long("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
  EXPECT_FALSE(ReadVarint(too_long).has_value());
}

}  // namespace
}  // namespace cmdq::rocksdb_store
