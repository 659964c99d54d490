#include "store/rocksdb/info_log.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace cmdq::rocksdb_store {
namespace {

class StderrInfoLog final : public rocksdb::Logger {
 public:
  StderrInfoLog() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    std::lock_guard lock(mu_);  // one line at a time from RocksDB's threads
    std::fputs("cmdq: rocksdb: ", stderr);
    std::vfprintf(stderr, format, ap);
    std::fputc('\n', stderr);
  }

 private:
  std::mutex mu_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewStderrInfoLog() { return std::make_shared<StderrInfoLog>(); }

}  // namespace cmdq::rocksdb_store
