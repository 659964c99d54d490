// SupportsDirectIo: whether a directory's file system takes O_DIRECT writes (ext4 and xfs
// do; tmpfs refuses them), probed once at open with a scratch file.
#pragma once

#include <string>

namespace cmdq::rocksdb_store {

bool SupportsDirectIo(const std::string& dir);

}  // namespace cmdq::rocksdb_store
