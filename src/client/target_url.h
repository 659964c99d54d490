// TargetUrl: where a Client sends its requests, parsed from "http://host[:port][/prefix]".
// Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::client {

struct TargetUrl {
  std::string host;         // a name, an IPv4 address, or an IPv6 address without []
  std::string port = "80";  // as text: what the resolver takes
  std::string base_path;    // "" or "/prefix" (no trailing '/'): put before every route
  std::string host_header;  // the Host header: "host:port" as the URL spelled it
};

// kInvalidArgument (field "target") for anything else: another scheme (https included),
// user info, a query or fragment, an empty host, a port outside 1..65535.
Result<TargetUrl> ParseTargetUrl(std::string_view url);

}  // namespace cmdq::client
