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

std::string IdKey(CommandId id);
// The id of an 8-byte key; nullopt for any other length.
std::optional<CommandId> ParseIdKey(std::string_view key);

// The prefix shared by all index entries of one tag and value: tag, varint length of
// the value, the value. The length makes the prefix unambiguous for values of any
// bytes (including NUL), so no other value's entries can fall inside its range.
std::string IndexPrefix(char tag, std::string_view value);
// An index entry: IndexPrefix(tag, value) + IdKey(id); its RocksDB value is empty.
std::string IndexKey(char tag, std::string_view value, CommandId id);
// The id at the end of an index entry that starts with `prefix`; nullopt if the entry is
// not exactly prefix + 8 bytes.
std::optional<CommandId> ParseIndexKey(std::string_view entry, std::string_view prefix);

}  // namespace cmdq::rocksdb_store
