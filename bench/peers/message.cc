#include "message.h"

#include <cstring>

namespace cmdq::peers {

namespace {
constexpr size_t kHeaderBytes = 2 * sizeof(uint64_t);
}  // namespace

std::string EncodeMessage(MessageHeader header, std::string_view key, std::string_view payload) {
  std::string body(kHeaderBytes + key.size() + payload.size(), '\0');
  std::memcpy(body.data(), &header.seq, sizeof(header.seq));
  std::memcpy(body.data() + sizeof(header.seq), &header.submit_ns, sizeof(header.submit_ns));
  std::memcpy(body.data() + kHeaderBytes, key.data(), key.size());
  std::memcpy(body.data() + kHeaderBytes + key.size(), payload.data(), payload.size());
  return body;
}

std::optional<MessageHeader> DecodeHeader(std::string_view body) {
  if (body.size() < kHeaderBytes) return std::nullopt;
  MessageHeader header;
  std::memcpy(&header.seq, body.data(), sizeof(header.seq));
  std::memcpy(&header.submit_ns, body.data() + sizeof(header.seq), sizeof(header.submit_ns));
  return header;
}

}  // namespace cmdq::peers
