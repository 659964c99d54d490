#include "store/rocksdb/index_hint.h"

#include "store/rocksdb/key_format.h"

namespace cmdq::rocksdb_store {
namespace {

class IndexHintPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "cmdq.IndexHintPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - kIdBytes);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > kIdBytes; }
};

}  // namespace

std::shared_ptr<const rocksdb::SliceTransform> NewIndexHintPrefix() {
  return std::make_shared<IndexHintPrefix>();
}

}  // namespace cmdq::rocksdb_store
