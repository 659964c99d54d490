// Keys of the RocksDB store (docs/storage.md, "RocksDB store"): ids as 8 big-endian bytes
// so that RocksDB's bytewise order is id order (submit-time order), and the key/type
// index entries. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cmdq/command_id.h"

namespace cmdq::rocksdb_store {

inline constexpr size_t kIdBytes = 8;
inline constexpr char kKeyIndexTag = 'k';
inline constexpr char kTypeIndexTag = 't';
// Buckets: the ids of one key (type) that one checkpoint indexed (index_bucket.h).
inline constexpr char kKeyBucketTag = 'K';
inline constexpr char kTypeBucketTag = 'T';

// Unsigned LEB128, as the codec writes it.
void AppendVarint(std::string& out, uint64_t n);
// Reads one varint off the front of `in`; nullopt when it is cut short or over 64 bits.
std::optional<uint64_t> ReadVarint(std::string_view& in);

std::string IdKey(CommandId id);
// The id of an 8-byte key; nullopt for any other length.
std::optional<CommandId> ParseIdKey(std::string_view key);

// The prefix shared by all index entries of one tag and value: tag, varint length of
// the value, the value. The length makes the prefix unambiguous for values of any
// bytes (including NUL), so no other value's entries can fall inside its range.
std::string IndexPrefix(char tag, std::string_view value);
// An index entry: IndexPrefix(tag, value) + IdKey(id); its RocksDB value is empty for
// a single entry ('k', 't'), the bucket's ids for a bucket ('K', 'T': `id` is its lowest).
std::string IndexKey(char tag, std::string_view value, CommandId id);
// The id at the end of an index entry that starts with `prefix`; nullopt if the entry is
// not exactly prefix + 8 bytes.
std::optional<CommandId> ParseIndexKey(std::string_view entry, std::string_view prefix);

}  // namespace cmdq::rocksdb_store
