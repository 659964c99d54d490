#include "server/auth.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cmdq::server {
namespace {

constexpr size_t kMinTokenLength = 16;
constexpr std::array<std::string_view, 4> kScopeNames = {"submit", "read", "work", "admin"};
constexpr uint8_t kAllScopes = 0b1111;

uint8_t Bit(Scope scope) { return static_cast<uint8_t>(1u << static_cast<unsigned>(scope)); }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The fields of a line, split on runs of spaces and tabs.
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    size_t end = i;
    while (end < line.size() && !IsSpace(line[end])) ++end;
    if (end > i) fields.push_back(line.substr(i, end - i));
    i = end;
  }
  return fields;
}

std::vector<std::string_view> CommaList(std::string_view s) {
  std::vector<std::string_view> items;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    items.push_back(s.substr(start, comma - start));
    if (comma == std::string_view::npos) return items;
    start = comma + 1;
  }
}

// RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool IsToken68(std::string_view token) {
  size_t i = 0;
  auto body = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  };
  while (i < token.size() && body(token[i])) ++i;
  if (i == 0) return false;
  while (i < token.size() && token[i] == '=') ++i;
  return i == token.size();
}

// Compares in time that depends on the lengths only, never on where the bytes differ.
bool SameToken(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

Status ParseScopes(std::string_view list, uint8_t& scopes) {
  for (std::string_view name : CommaList(list)) {
    auto it = std::find(kScopeNames.begin(), kScopeNames.end(), name);
    if (it == kScopeNames.end()) {
      return Status::InvalidArgument(
          "", fmt::format("unknown scope \"{}\" (known: submit, read, work, admin)", name));
    }
    scopes |= static_cast<uint8_t>(1u << (it - kScopeNames.begin()));
  }
  if (scopes & Bit(Scope::kAdmin)) scopes = kAllScopes;
  return Status::Ok();
}

}  // namespace

std::string_view ScopeName(Scope scope) { return kScopeNames[static_cast<size_t>(scope)]; }

bool Authorizer::Grant::Allows(std::string_view key) const {
  if (any_key) return true;
  if (std::find(keys.begin(), keys.end(), key) != keys.end()) return true;
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& p) { return key.starts_with(p); });
}

// One non-comment line into `grant`. Messages name fields by position or by name, never
// by content that could be the token (a token put in the wrong column included).
Status Authorizer::ParseLine(std::string_view line, Grant& grant) {
  const std::vector<std::string_view> fields = Fields(line);
  if (!IsToken68(fields[0])) {
    return Status::InvalidArgument(
        "", "the token (first field) may hold only A-Z a-z 0-9 - . _ ~ + / and = at its end");
  }
  if (fields[0].size() < kMinTokenLength) {
    return Status::InvalidArgument(
        "", fmt::format("the token is shorter than {} characters", kMinTokenLength));
  }
  grant.token = std::string(fields[0]);
  bool have_scopes = false, have_keys = false;
  for (size_t i = 1; i < fields.size(); ++i) {
    const size_t eq = fields[i].find('=');
    const std::string_view name = fields[i].substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : fields[i].substr(eq + 1);
    if (eq == std::string_view::npos || (name != "scopes" && name != "keys")) {
      return Status::InvalidArgument(
          "", fmt::format("field {} is not scopes=LIST or keys=LIST", i + 1));
    }
    bool& seen = name == "scopes" ? have_scopes : have_keys;
    if (seen) return Status::InvalidArgument("", fmt::format("{}= is given twice", name));
    seen = true;
    if (name == "scopes") {
      if (Status s = ParseScopes(value, grant.scopes); !s.ok()) return s;
      continue;
    }
    grant.any_key = false;
    for (std::string_view key : CommaList(value)) {
      if (key.empty()) return Status::InvalidArgument("", "keys= holds an empty key");
      if (key == "*") {
        grant.any_key = true;
      } else if (key.ends_with('*')) {
        grant.prefixes.emplace_back(key.substr(0, key.size() - 1));
      } else {
        grant.keys.emplace_back(key);
      }
    }
  }
  if (!have_scopes) return Status::InvalidArgument("", "scopes= is missing");
  return Status::Ok();
}

Result<Authorizer> Authorizer::Parse(std::string_view text, std::string_view source) {
  Authorizer auth;
  std::vector<size_t> line_of;  // the line number of each grant, for duplicate errors
  size_t number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = Trim(text.substr(start, end - start));
    start = end + 1;
    ++number;
    if (line.empty() || line.front() == '#') continue;
    Grant grant;
    Status status = ParseLine(line, grant);
    for (size_t i = 0; status.ok() && i < auth.grants_.size(); ++i) {
      if (auth.grants_[i].token == grant.token) {
        status = Status::InvalidArgument("", fmt::format("the same token as line {}", line_of[i]));
      }
    }
    if (!status.ok()) {
      return Error(Status(StatusCode::kInvalidArgument,
                          fmt::format("{}:{}: {}", source, number, status.message())));
    }
    auth.grants_.push_back(std::move(grant));
    line_of.push_back(number);
  }
  if (auth.grants_.empty()) {
    return Error(Status(StatusCode::kInvalidArgument,
                        fmt::format("{}: holds no token, so every request would be refused; "
                                    "add a line `TOKEN scopes=...`",
                                    source)));
  }
  return auth;
}

Result<Authorizer> Authorizer::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const StatusCode code = err == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError;
    return Error(
        Status(code, fmt::format("cannot read token file {}: {}", path, std::strerror(err))));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return Error(Status(StatusCode::kIoError, fmt::format("cannot read token file {}", path)));
  }
  return Parse(text.str(), path);
}

Result<const Authorizer::Grant*> Authorizer::Authenticate(std::string_view authorization_header,
                                                          Scope scope) const {
  const std::string_view header = Trim(authorization_header);
  if (header.empty()) {
    return Error(Status::Unauthenticated(
        "this server needs a token: send the header `Authorization: Bearer <token>`"));
  }
  constexpr std::string_view kScheme = "Bearer";
  if (header.size() <= kScheme.size() ||
      !EqualsIgnoreCase(header.substr(0, kScheme.size()), kScheme) ||
      !IsSpace(header[kScheme.size()])) {
    return Error(Status::Unauthenticated("the Authorization header must be `Bearer <token>`"));
  }
  const std::string_view token = Trim(header.substr(kScheme.size()));
  // Every grant is compared, also after a match: the time does not tell which one matched.
  const Grant* match = nullptr;
  for (const Grant& grant : grants_) {
    if (SameToken(token, grant.token)) match = &grant;
  }
  if (match == nullptr) return Error(Status::Unauthenticated("unknown bearer token"));
  if ((match->scopes & Bit(scope)) == 0) {
    return Error(Status::PermissionDenied(
        fmt::format("this token does not have the {} scope", ScopeName(scope))));
  }
  return match;
}

Status Authorizer::CheckScope(std::string_view authorization_header, Scope scope) const {
  if (!enabled()) return Status::Ok();
  auto grant = Authenticate(authorization_header, scope);
  return grant ? Status::Ok() : grant.error();
}

Status Authorizer::Check(std::string_view authorization_header, Scope scope,
                         std::string_view key) const {
  if (!enabled()) return Status::Ok();
  auto grant = Authenticate(authorization_header, scope);
  if (!grant) return grant.error();
  const Grant* match = *grant;
  if (key.empty()) {
    if (match->any_key || scope == Scope::kWork) return Status::Ok();
    return Status::PermissionDenied(
        "this token is limited to some keys: the request must name one of them");
  }
  if (!match->Allows(key)) {
    return Status::PermissionDenied(fmt::format("this token may not touch key \"{}\"", key));
  }
  return Status::Ok();
}

Status CheckBindAllowed(std::string_view listen_host, bool have_tokens, bool insecure) {
  std::string host(listen_host);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // "[::1]" as in a URL
  }
  bool loopback = host == "localhost";
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    loopback = (ntohl(v4.s_addr) >> 24) == 127;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    // ::1, or an IPv4-mapped 127.x address.
    loopback = IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  }
  if (loopback || have_tokens || insecure) return Status::Ok();
  return Status::FailedPrecondition(fmt::format(
      "refusing to listen on {} without access tokens: anyone who can reach it could submit "
      "and cancel commands. Give --tokens FILE (docs/operations.md, \"Access control\"), "
      "listen on 127.0.0.1, or add --insecure if a proxy or firewall guards the address",
      listen_host.empty() ? "all addresses" : listen_host));
}

}  // namespace cmdq::server
