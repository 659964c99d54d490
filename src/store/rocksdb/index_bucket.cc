#include "store/rocksdb/index_bucket.h"

#include <limits>

#include "store/rocksdb/key_format.h"

namespace cmdq::rocksdb_store {
namespace {

Status Bad(std::string_view what) {
  return Status::Corruption("index bucket: " + std::string(what));
}

}  // namespace

std::string EncodeIdBucket(std::span<const uint64_t> ids) {
  std::string out;
  out.reserve(2 + ids.size() * 2);
  AppendVarint(out, ids.size());
  for (size_t i = 1; i < ids.size(); ++i) AppendVarint(out, ids[i] - ids[i - 1]);
  return out;
}

Result<std::vector<uint64_t>> DecodeIdBucket(std::string_view value, uint64_t lowest) {
  auto count = ReadVarint(value);
  if (!count) return Error(Bad("truncated count"));
  if (*count == 0) return Error(Bad("empty"));
  // Every gap takes at least one byte: a count beyond that is a lie, not an allocation.
  if (*count - 1 > value.size()) return Error(Bad("count larger than its bytes"));
  std::vector<uint64_t> ids;
  ids.reserve(*count);
  ids.push_back(lowest);
  for (uint64_t i = 1; i < *count; ++i) {
    auto gap = ReadVarint(value);
    if (!gap) return Error(Bad("truncated gap"));
    if (*gap == 0) return Error(Bad("zero gap"));
    if (ids.back() > std::numeric_limits<uint64_t>::max() - *gap) return Error(Bad("id overflow"));
    ids.push_back(ids.back() + *gap);
  }
  if (!value.empty()) return Error(Bad("bytes after the last id"));
  return ids;
}

}  // namespace cmdq::rocksdb_store
