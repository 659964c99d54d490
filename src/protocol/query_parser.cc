#include "protocol/query_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "protocol/utf8.h"

namespace cmdq::protocol {
namespace {

constexpr size_t kMaxLeaseBytes = 128;

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<uint32_t> ParseLimit(std::string_view text) {
  uint32_t limit = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (ec == std::errc() && end == text.data() + text.size() && limit >= 1 &&
      limit <= kMaxListLimit) {
    return limit;
  }
  return Error(Status::InvalidArgument(
      "limit", fmt::format("limit must be an integer in 1..{}", kMaxListLimit)));
}

// Applies one decoded parameter to the query; `seen` guards against repeats.
Status Apply(std::string_view name, std::string value, ListQuery& query, uint32_t& seen) {
  static constexpr std::string_view kNames[] = {"key", "state", "type", "cursor", "limit"};
  size_t index = 0;
  while (index < std::size(kNames) && kNames[index] != name) ++index;
  if (index == std::size(kNames)) {
    return Status::InvalidArgument(std::string(name),
                                   fmt::format("unknown parameter \"{}\"", name));
  }
  if ((seen & (1u << index)) != 0) {
    return Status::InvalidArgument(std::string(name), fmt::format("{} appears twice", name));
  }
  seen |= 1u << index;
  if (value.empty()) return Status::Ok();
  switch (index) {
    case 0:
      query.key = std::move(value);
      return Status::Ok();
    case 1: {
      auto state = ParseState(value);
      if (!state) {
        return Status::InvalidArgument("state", fmt::format("unknown state \"{}\"", value));
      }
      query.state = *state;
      return Status::Ok();
    }
    case 2:
      query.type = std::move(value);
      return Status::Ok();
    case 3: {
      auto id = CommandId::Parse(value);
      if (!id) return Status::InvalidArgument("cursor", "cursor must be a command id");
      query.before = *id;
      return Status::Ok();
    }
    default: {
      auto limit = ParseLimit(value);
      if (!limit) return limit.error();
      query.limit = *limit;
      return Status::Ok();
    }
  }
}

}  // namespace

Result<std::string> PercentDecode(std::string_view text, std::string_view field) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      const int hi = i + 2 < text.size() ? Hex(text[i + 1]) : -1;
      const int lo = hi >= 0 ? Hex(text[i + 2]) : -1;
      if (lo < 0) {
        return Error(Status::InvalidArgument(
            std::string(field), fmt::format("{} has a bad %-escape at character {}", field, i)));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  if (!IsValidUtf8(out)) {
    return Error(
        Status::InvalidArgument(std::string(field), fmt::format("{} is not valid UTF-8", field)));
  }
  return out;
}

Result<ListQuery> ParseListQuery(std::string_view query) {
  ListQuery result;
  result.limit = kDefaultListLimit;
  uint32_t seen = 0;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2" and a trailing '&' are harmless
    const size_t eq = pair.find('=');
    auto name = PercentDecode(pair.substr(0, eq), "query");
    if (!name) return Error(name.error());
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    // The field of a bad value is its parameter, unless the name itself is unknown.
    auto value = PercentDecode(raw_value, *name);
    if (!value) return Error(value.error());
    if (Status s = Apply(*name, std::move(*value), result, seen); !s.ok()) return Error(s);
  }
  return result;
}

Result<CommandId> ParseIdSegment(std::string_view segment) {
  auto id = CommandId::Parse(segment);
  if (!id) return Error(Status::InvalidArgument("id", "id must be 16 lowercase hex digits"));
  return id;
}

Result<std::string> ParseLeaseSegment(std::string_view segment) {
  const bool ok_size = !segment.empty() && segment.size() <= kMaxLeaseBytes;
  const bool ok_chars = std::all_of(segment.begin(), segment.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '~' || c == '-';
  });
  if (!ok_size || !ok_chars) {
    return Error(Status::InvalidArgument(
        "lease", fmt::format("lease must be 1..{} characters of [A-Za-z0-9._~-]", kMaxLeaseBytes)));
  }
  return std::string(segment);
}

}  // namespace cmdq::protocol
