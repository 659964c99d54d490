#include "store/rocksdb/direct_io.h"

#include <fcntl.h>
#include <unistd.h>

namespace cmdq::rocksdb_store {

bool SupportsDirectIo(const std::string& dir) {
  const std::string probe = dir + "/.cmdq-direct-io-probe";
  const int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  ::unlink(probe.c_str());
  return true;
}

}  // namespace cmdq::rocksdb_store
