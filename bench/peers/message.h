// The body every peer carries for one W1 command: a small binary header (the command's
// sequence number in the run and the steady-clock time it was submitted, or in an open
// loop meant to be submitted) followed by the user's key and the 1 KB payload. The
// consumer reads the header back to count the command done and its submit->done latency.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cmdq::peers {

struct MessageHeader {
  uint64_t seq = 0;
  int64_t submit_ns = 0;  // steady_clock, nanoseconds since its epoch
};

// header, then key, then payload; binary (every peer here carries bytes as they are).
std::string EncodeMessage(MessageHeader header, std::string_view key, std::string_view payload);

// The header of a body EncodeMessage made; nullopt for anything shorter.
std::optional<MessageHeader> DecodeHeader(std::string_view body);

}  // namespace cmdq::peers
