// Access control of `cmdq serve`: bearer tokens from a file, each with scopes and,
// optionally, the command keys it may touch (docs/operations.md, "Access control").
//
// The token file, one token a line; blank lines and lines starting with `#` are skipped:
//
//   # TOKEN                          scopes=...               keys=... (optional)
//   3f6c1d0e9a8b7c6d5e4f3a2b1c0d9e8f scopes=submit,read       keys=tenant-42/*,billing
//   a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5 scopes=work
//   ffeeddccbbaa99887766554433221100 scopes=admin
//
// - TOKEN: at least 16 characters of RFC 6750's token68 alphabet (A-Z a-z 0-9 - . _ ~ + /,
//   then `=` padding only at the end), so that it travels in a header unchanged.
// - scopes: a comma list of submit (POST /v1/commands), read (get, list, audit), work
//   (the worker protocol: leases, heartbeat, complete, fail), admin (cancel, undo,
//   redrive; admin implies every other scope). /metrics asks for read.
// - keys: a comma list; `PREFIX*` allows every key that starts with PREFIX, `*` every key,
//   anything else that one key. Without keys= the token may touch every key.
// A line that does not parse is an error naming the file and line, never the token.
//
// Thread-safety: an Authorizer is immutable once built; Check may run on any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cmdq/status.h"

namespace cmdq::server {

enum class Scope : uint8_t { kSubmit, kRead, kWork, kAdmin };
std::string_view ScopeName(Scope scope);  // "submit", "read", "work", "admin"

class Authorizer {
 public:
  // No tokens: access control is off and every Check passes (the loopback default).
  Authorizer() = default;

  // Reads and parses a token file. kNotFound / kIoError when it cannot be read,
  // kInvalidArgument naming "PATH:LINE" for a line that does not parse, a token given
  // twice, or a file that holds no token at all (it would lock everybody out).
  static Result<Authorizer> LoadFile(const std::string& path);
  // The same from text; `source` names it in errors (a path, "--token-file").
  static Result<Authorizer> Parse(std::string_view text, std::string_view source);

  // True when tokens are loaded, i.e. requests must carry one.
  bool enabled() const { return !grants_.empty(); }
  size_t size() const { return grants_.size(); }

  // May the request with this Authorization header value do `scope` on `key`?
  //  - OK, also always when !enabled().
  //  - kUnauthenticated (401): no header, not "Bearer <token>", or a token not in the file.
  //    The server answers it with `WWW-Authenticate: Bearer`.
  //  - kPermissionDenied (403): a known token without `scope`, or limited to keys that
  //    `key` is not one of.
  // `key` empty means the request is about no one key (list across keys, a lease): a
  // token limited to keys may then do only `work`, since leases are taken by type and a
  // worker never picks keys. The server passes the command's key whenever it has one
  // (for a get by id: after loading the record, before answering).
  // The token is compared in constant time: how long Check takes does not depend on how
  // much of a guess matched. Messages never contain the token.
  Status Check(std::string_view authorization_header, Scope scope, std::string_view key = {}) const;
  // The first half of Check, for a server that learns the key only later (from the body,
  // or from the record): a known token with `scope`, whatever keys it is limited to. The
  // server must then Check the key itself before it touches or answers any command.
  Status CheckScope(std::string_view authorization_header, Scope scope) const;

 private:
  struct Grant {
    std::string token;
    uint8_t scopes = 0;  // bit (1 << Scope); admin is expanded to all at parse time
    bool any_key = true;
    std::vector<std::string> keys;      // exact keys
    std::vector<std::string> prefixes;  // from `PREFIX*`
    bool Allows(std::string_view key) const;
  };
  static Status ParseLine(std::string_view line, Grant& grant);
  // The grant of the header's token with `scope`, or the 401/403.
  Result<const Grant*> Authenticate(std::string_view authorization_header, Scope scope) const;

  std::vector<Grant> grants_;
};

// May the server listen on `listen_host`? Loopback (127.0.0.0/8, ::1, "localhost")
// always; any other address (0.0.0.0 and :: included) only with tokens, or when the
// operator said --insecure (a proxy or firewall guards it). kFailedPrecondition, with a
// message saying what to do, otherwise.
Status CheckBindAllowed(std::string_view listen_host, bool have_tokens, bool insecure);

}  // namespace cmdq::server
