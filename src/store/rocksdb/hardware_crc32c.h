// RocksDB's crc32c::Extend, replaced at link time by one in hardware (hardware_crc32c.cc,
// docs/decisions/0064). The names are the linker's: `--wrap=SYMBOL` sends every call to
// SYMBOL to __wrap_SYMBOL, and __real_SYMBOL reaches the original.
#pragma once

#include <cstddef>
#include <cstdint>

// rocksdb::crc32c::Extend(uint32_t, const char*, size_t) is _ZN7rocksdb6crc32c6ExtendEjPKcm.
#define CMDQ_WRAPPED_CRC32C_EXTEND __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm
#define CMDQ_REAL_CRC32C_EXTEND __real__ZN7rocksdb6crc32c6ExtendEjPKcm

extern "C" {
// What RocksDB's calls to crc32c::Extend reach: the same CRC, in hardware.
uint32_t CMDQ_WRAPPED_CRC32C_EXTEND(uint32_t crc, const char* data, size_t size);
// RocksDB's own Extend (software), for the test that compares the two.
uint32_t CMDQ_REAL_CRC32C_EXTEND(uint32_t crc, const char* data, size_t size);
}

namespace cmdq::rocksdb_store {
// Calls this thread made to the hardware Extend so far: for the test that checks the
// link wraps RocksDB's calls.
uint64_t HardwareCrc32cCallsOnThisThread();
// Whether the hardware Extend and RocksDB's own agree on CRC-32C's check value.
bool HardwareCrc32cAgrees();
}  // namespace cmdq::rocksdb_store
