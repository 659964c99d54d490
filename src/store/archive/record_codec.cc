#include "store/archive/record_codec.h"

#include <cstdint>

#include "core/codec.h"

namespace cmdq::archive {
namespace {

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

Result<std::string_view> TakeBytes(std::string_view& in, const char* what) {
  uint64_t n = 0;
  for (int shift = 0;; shift += 7) {
    if (in.empty() || shift > 63) {
      return Error(Status::Corruption(std::string("bad length of ") + what));
    }
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    n |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (n > in.size()) return Error(Status::Corruption(std::string("truncated ") + what));
  std::string_view out = in.substr(0, n);
  in.remove_prefix(n);
  return out;
}

}  // namespace

void AppendStored(const StoredCommand& s, std::string& out) {
  const Record& r = s.record;
  RecordStatus st = StatusOf(r, s.audit);
  std::string command = EncodeCommand(r.command);
  std::string status = EncodeRecordStatus(st);
  PutVarint(out, command.size());
  out += command;
  PutVarint(out, status.size());
  out += status;
}

Result<StoredCommand> TakeStored(std::string_view& in) {
  auto command_bytes = TakeBytes(in, "command");
  if (!command_bytes) return Error(std::move(command_bytes.error()));
  auto command = DecodeCommand(*command_bytes);
  if (!command) return Error(std::move(command.error()));
  auto status_bytes = TakeBytes(in, "record status");
  if (!status_bytes) return Error(std::move(status_bytes.error()));
  auto st = DecodeRecordStatus(*status_bytes, command->id);
  if (!st) return Error(std::move(st.error()));
  StoredCommand out;
  out.audit = std::move(st->audit);
  out.record = RecordOf(std::move(*command), std::move(*st));
  return out;
}

}  // namespace cmdq::archive
