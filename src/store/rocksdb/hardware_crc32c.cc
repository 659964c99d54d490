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
#include <cstddef>
#include <cstdint>

namespace {
thread_local uint64_t calls = 0;  // per thread: no shared line on RocksDB's hot path
}  // namespace

uint64_t cmdq::rocksdb_store::HardwareCrc32cCallsOnThisThread() { return calls; }

// Also keeps a reference to RocksDB's own Extend in every program linked with the wrap
// (this object is always linked: see CMakeLists.txt): were the symbol renamed in a new
// RocksDB, the link fails instead of quietly leaving RocksDB in software.
bool cmdq::rocksdb_store::HardwareCrc32cAgrees() {
  static constexpr char kCheck[] = "123456789";
  return CMDQ_WRAPPED_CRC32C_EXTEND(0, kCheck, 9) == CMDQ_REAL_CRC32C_EXTEND(0, kCheck, 9);
}

extern "C" uint32_t CMDQ_WRAPPED_CRC32C_EXTEND(uint32_t crc, const char* data, size_t size) {
  ++calls;
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
