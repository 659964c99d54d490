// SupportsDirectIo: whether a directory's file system takes O_DIRECT (ext4 and xfs do;
// tmpfs refuses it before Linux 6.6), probed at open with an unnamed temporary file
// (O_TMPFILE), or where that is not supported with a scratch file that is removed at
// once, failure or not.
#pragma once

#include <string>

namespace cmdq::rocksdb_store {

// The scratch file's name, for the open checks (a crash may leave it behind).
inline constexpr char kDirectIoProbeName[] = ".cmdq-direct-io-probe";

bool SupportsDirectIo(const std::string& dir);

}  // namespace cmdq::rocksdb_store
