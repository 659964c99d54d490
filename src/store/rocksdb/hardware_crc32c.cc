// RocksDB's crc32c in hardware (docs/decisions/0064).
//
// Debian builds RocksDB portable, so its crc32c::Extend never uses the CPU's crc32
// instruction: the WAL's and the tables' checksums were 10–14% of the durable CPU. The
// link wraps that one function (-Wl,--wrap, see CMakeLists.txt): every call RocksDB makes
// to it lands here, and ISA-L computes the same CRC (Castagnoli) with the instructions
// this CPU has, chosen at run time. RocksDB's Extend takes and returns the CRC with the
// usual inversions; ISA-L's crc32_iscsi works on the raw register, hence the ~.
#include "store/rocksdb/hardware_crc32c.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace {
std::atomic<uint64_t> calls{0};
}  // namespace

uint64_t cmdq::rocksdb_store::HardwareCrc32cCalls() {
  return calls.load(std::memory_order_relaxed);
}

extern "C" uint32_t CMDQ_WRAPPED_CRC32C_EXTEND(uint32_t crc, const char* data, size_t size) {
  calls.fetch_add(1, std::memory_order_relaxed);
  // crc32_iscsi takes an int length.
  constexpr size_t kChunk = size_t{1} << 30;
  uint32_t raw = ~crc;
  while (size > 0) {
    const size_t n = std::min(size, kChunk);
    raw = crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<char*>(data)),
                      static_cast<int>(n), raw);
    data += n;
    size -= n;
  }
  return ~raw;
}
