#include "store/rocksdb/key_format.h"

#include <gtest/gtest.h>

namespace cmdq::rocksdb_store {
namespace {

TEST(KeyFormat, IdKeysSortLikeIds) {
  std::vector<uint64_t> ids = {0, 1, 255, 256, 0x0102030405060708, ~uint64_t{0}};
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    EXPECT_LT(IdKey(CommandId(ids[i])), IdKey(CommandId(ids[i + 1])));
  }
  EXPECT_EQ(IdKey(CommandId(0x0102030405060708)), std::string("\x01\x02\x03\x04\x05\x06\x07\x08"));
  for (uint64_t id : ids) EXPECT_EQ(ParseIdKey(IdKey(CommandId(id))), CommandId(id));
  EXPECT_FALSE(ParseIdKey("short").has_value());
}

TEST(KeyFormat, IndexPrefixIsUnambiguousForValuesWithNul) {
  // "a" and "a\0..." must not share a prefix, or a List by key "a" would see the other's.
  std::string a = IndexPrefix(kKeyIndexTag, "a");
  std::string a_nul = IndexPrefix(kKeyIndexTag, std::string("a\0b", 3));
  EXPECT_FALSE(a_nul.starts_with(a));
  std::string entry = IndexKey(kKeyIndexTag, "a", CommandId(42));
  EXPECT_EQ(ParseIndexKey(entry, a), CommandId(42));
  EXPECT_FALSE(ParseIndexKey(entry, a_nul).has_value());
  EXPECT_FALSE(ParseIndexKey(IndexKey(kTypeIndexTag, "a", CommandId(42)), a).has_value());
  // Long values take a multi-byte length.
  std::string long_value(300, 'x');
  EXPECT_EQ(ParseIndexKey(IndexKey(kKeyIndexTag, long_value, CommandId(7)),
                          IndexPrefix(kKeyIndexTag, long_value)),
            CommandId(7));
}

}  // namespace
}  // namespace cmdq::rocksdb_store
