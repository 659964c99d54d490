#include "store/rocksdb/errors.h"

#include <string>

namespace cmdq::rocksdb_store {

Status FromRocks(const rocksdb::Status& s, std::string_view path, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string detail = std::string(what) + " at " + std::string(path) + ": " + s.ToString();
  if (s.IsNoSpace()) {
    return Status::ResourceExhausted("disk full at " + std::string(path) + ": " + s.ToString() +
                                     "; free space, writes resume by themselves");
  }
  if (s.IsCorruption()) {
    return Status::Corruption(detail + "; the data is damaged: restore from a backup or archive");
  }
  if (s.IsIOError()) return {StatusCode::kIoError, detail};
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Status::Unavailable(detail);
  if (s.IsInvalidArgument()) return Status::InvalidArgument("path", detail);
  if (s.IsNotFound()) return Status::NotFound(detail);
  return Status::Internal(detail);
}

}  // namespace cmdq::rocksdb_store
