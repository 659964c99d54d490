#include "tiny_json.h"

#include <charconv>
#include <string>

namespace cmdq::app {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view Trim(std::string_view s) {
  s = TrimLeft(s);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<int64_t> JsonIntMember(std::string_view json, std::string_view name, int64_t fallback) {
  const std::string field(name);
  std::string_view body = Trim(json);
  if (body.empty()) return fallback;
  if (body.front() != '{' || body.back() != '}') {
    return Error(Status::InvalidArgument("payload", "payload must be a JSON object"));
  }
  const std::string quoted = "\"" + field + "\"";
  const size_t at = body.find(quoted);
  if (at == std::string_view::npos) return fallback;
  std::string_view rest = TrimLeft(body.substr(at + quoted.size()));
  if (rest.empty() || rest.front() != ':') {
    return Error(Status::InvalidArgument(field, "expected ':' after \"" + field + "\""));
  }
  rest = TrimLeft(rest.substr(1));
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc() || value < 0 || end == rest.data()) {
    return Error(Status::InvalidArgument(field, field + " must be a non-negative integer"));
  }
  return value;
}

}  // namespace cmdq::app
