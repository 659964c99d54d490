// The RocksDB backend of Store: cmdq's embedded durable default (`cmdq serve`).
//
// One directory holds one store; one process at a time may open it (RocksDB's LOCK
// file). A command is written once at insert; each later write of it rewrites only a
// small status value (state, lease, result, audit trail), so a command costs about two
// RocksDB entries (docs/storage.md has the layout, docs/decisions/0005 and 0006 the
// reasons). The returned Store is thread-safe; writes are serialized inside it, so a
// single committer that merges many commands per Write (group commit) is the fast way.
//
// Durability: a Write with WriteOptions::sync returns after the write-ahead log is
// fdatasync'ed: it survives a power loss. Without sync the write is in the OS page cache:
// it survives a process crash (kill -9) but not a power loss.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cmdq/status.h"
#include "cmdq/store.h"

namespace cmdq {

// What RocksDB does with a write-ahead log whose records do not all check out at open.
// A crash can leave only a torn tail (a record cut short); since acknowledged writes are
// synced, a torn tail holds only unacknowledged writes. See docs/decisions/0005.
enum class WalRecovery {
  // Default. Drops a record cut short at the end of the log (what a crash leaves) and
  // refuses to open (kCorruption) on any other damage, e.g. a bad checksum in the middle
  // of the log: acknowledged commands may be behind it, so an operator decides.
  kTolerateTornTail,
  // Replays the log up to the first damaged record and drops everything after it, even
  // acknowledged writes. The operator's explicit choice after a kCorruption at open.
  kPointInTime,
};

struct RocksDbStoreOptions {
  // The data directory. Required. Holds nothing but this store.
  std::string path;
  // Create the directory and an empty store when the path does not exist. false: a
  // missing path is kNotFound (catches a mistyped path in production configuration).
  bool create_if_missing = true;
  // Memtable size per column family, bytes. Larger absorbs bursts and means fewer,
  // bigger flushes (less write amplification) at the cost of memory and of a longer log
  // replay after a crash. 128 MiB takes ~100k 1 KB commands.
  size_t write_buffer_bytes = size_t{128} << 20;
  // Memtables per column family (one active, the rest being flushed). More rides out
  // slow flushes before writes stall; each costs up to write_buffer_bytes of memory.
  int max_write_buffers = 4;
  // Block cache for reads (Get, List, Audit of terminal records), bytes.
  size_t block_cache_bytes = size_t{64} << 20;
  // Compress the `commands` column family's files (LZ4). Off by default: payloads are
  // often already compressed or random, so compression costs CPU and saves little. The
  // small status and index values are always compressed when LZ4 is available.
  bool compress_commands = false;
  // See WalRecovery.
  WalRecovery wal_recovery = WalRecovery::kTolerateTornTail;
  // Write table files (flushes, compactions) with O_DIRECT when the directory's file
  // system takes it (probed at open), so they neither copy through the page cache nor
  // sit in it in front of the log's fsyncs (docs/decisions/0066). false: always through
  // the page cache, a MiB at a time (0065).
  bool direct_table_writes = true;
  // Write the key and type index entries at insert (List by key or type uses them).
  // false saves an entry per command and per index on the hot path but makes List by key
  // or type scan the records newest-first within List's scan budget.
  bool index_key_and_type = true;
  // An insert writes no status entry of its own (the command implies it); every this
  // many such inserts, one write stores the statuses still missing and raises a
  // watermark in `meta`. Open reads the commands above the watermark back: after a
  // crash, at most about this many plus the queue (docs/storage.md).
  size_t checkpoint_every = 65536;
};

// Opens (or creates) the store at options.path. Errors name the path and what to do,
// and leave the directory as it was:
//   kInvalidArgument    path empty, or names a file rather than a directory
//   kNotFound           path missing and create_if_missing is false
//   kUnavailable        another process (or another open Store) holds the directory
//   kFailedPrecondition the directory is not writable, or is not empty and not a store
//   kCorruption         damaged files, or a format version newer than this build
//   kIoError            the operating system refused a read or write
Result<std::unique_ptr<Store>> OpenRocksDbStore(RocksDbStoreOptions options);

}  // namespace cmdq
