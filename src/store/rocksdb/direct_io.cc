#include "store/rocksdb/direct_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace cmdq::rocksdb_store {

bool SupportsDirectIo(const std::string& dir) {
  // Unnamed: nothing to remove, and nothing another process could see.
  int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_DIRECT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  if (errno != EOPNOTSUPP && errno != EISDIR) return false;  // EINVAL: no O_DIRECT here
  // Without O_TMPFILE. Linux creates the file before it refuses O_DIRECT, so it is
  // removed whatever the open said; O_EXCL and O_NOFOLLOW never touch a file already there.
  const std::string probe = dir + "/" + kDirectIoProbeName;
  fd = ::open(probe.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_DIRECT | O_CLOEXEC, 0600);
  const bool supported = fd >= 0;
  if (supported) ::close(fd);
  if (supported || errno == EINVAL) ::unlink(probe.c_str());
  return supported;
}

}  // namespace cmdq::rocksdb_store
