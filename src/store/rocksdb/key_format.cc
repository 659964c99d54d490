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

void AppendVarint(std::string& out, uint64_t n) {
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

std::optional<uint64_t> ReadVarint(std::string_view& in) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    if (shift == 63 && byte > 1) return std::nullopt;
    v |= uint64_t{byte & 0x7Fu} << shift;
    if ((byte & 0x80) == 0) return v;
  }
  return std::nullopt;
}

std::string IndexPrefix(char tag, std::string_view value) {
  std::string prefix(1, tag);
  AppendVarint(prefix, value.size());
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
