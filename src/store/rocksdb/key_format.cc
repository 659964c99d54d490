#include "store/rocksdb/key_format.h"

namespace cmdq::rocksdb_store {

std::string IdKey(CommandId id) {
  std::string key(kIdBytes, '\0');
  uint64_t v = id.value();
  for (size_t i = 0; i < kIdBytes; ++i) {
    key[kIdBytes - 1 - i] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  return key;
}

std::optional<CommandId> ParseIdKey(std::string_view key) {
  if (key.size() != kIdBytes) return std::nullopt;
  uint64_t v = 0;
  for (char c : key) v = (v << 8) | static_cast<uint8_t>(c);
  return CommandId(v);
}

std::string IndexPrefix(char tag, std::string_view value) {
  std::string prefix(1, tag);
  uint64_t n = value.size();
  while (n >= 0x80) {
    prefix.push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  prefix.push_back(static_cast<char>(n));
  prefix.append(value);
  return prefix;
}

std::string IndexKey(char tag, std::string_view value, CommandId id) {
  return IndexPrefix(tag, value) + IdKey(id);
}

std::optional<CommandId> ParseIndexKey(std::string_view entry, std::string_view prefix) {
  if (entry.size() != prefix.size() + kIdBytes || !entry.starts_with(prefix)) return std::nullopt;
  return ParseIdKey(entry.substr(prefix.size()));
}

}  // namespace cmdq::rocksdb_store
