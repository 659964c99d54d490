// ParseDuration: the "500ms" / "2s" / "1m" spelling of ?wait= and the CLI's flags, read
// by the protocol's own parser so that client and server agree on it.
#include "protocol/duration.h"

#include "cmdq/client.h"

namespace cmdq {

Result<std::chrono::milliseconds> ParseDuration(std::string_view text, std::string_view field) {
  return protocol::ParseDurationParam(text, field);
}

}  // namespace cmdq
