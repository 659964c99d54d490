#include "protocol/json_writer.h"

#include <algorithm>
#include <charconv>

#include "protocol/base64.h"
#include "protocol/rfc3339.h"
#include "protocol/utf8.h"

namespace cmdq::protocol {
namespace {

bool NeedsEscape(char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }

void AppendEscape(char c, std::string& out) {
  switch (c) {
    case '"':
      out.append("\\\"");
      return;
    case '\\':
      out.append("\\\\");
      return;
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    case '\b':
      out.append("\\b");
      return;
    case '\f':
      out.append("\\f");
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const auto u = static_cast<unsigned char>(c);
      const char escape[] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 15]};
      out.append(escape, sizeof(escape));
    }
  }
}

template <typename T>
void AppendNumber(T value, std::string& out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, static_cast<size_t>(end - buf));
}

}  // namespace

void JsonWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (has_value_.empty()) return;
  if (has_value_.back()) out_.push_back(',');
  has_value_.back() = true;
}

void JsonWriter::Open(char bracket) {
  Separate();
  out_.push_back(bracket);
  has_value_.push_back(false);
}

void JsonWriter::Close(char bracket) {
  out_.push_back(bracket);
  if (!has_value_.empty()) has_value_.pop_back();
}

JsonWriter& JsonWriter::BeginObject() {
  Open('{');
  return *this;
}
JsonWriter& JsonWriter::EndObject() {
  Close('}');
  return *this;
}
JsonWriter& JsonWriter::BeginArray() {
  Open('[');
  return *this;
}
JsonWriter& JsonWriter::EndArray() {
  Close(']');
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view name) {
  Separate();
  AppendEscaped(name);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view text) {
  Separate();
  AppendEscaped(text);
  return *this;
}

void JsonWriter::AppendEscaped(std::string_view text) {
  // Most strings (member names, ids, tokens, types, keys) are short plain ASCII: one scan
  // tells, and they are copied as they are, without the UTF-8 validator's call.
  if (std::all_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
      })) {
    out_.push_back('"');
    out_.append(text);
    out_.push_back('"');
    return;
  }
  // Valid UTF-8 is the rule (everything the API parsed was checked); sanitizing copies
  // only strings that a C++ caller stored as arbitrary bytes.
  std::string sanitized;
  if (!IsValidUtf8(text)) {
    AppendSanitizedUtf8(text, sanitized);
    text = sanitized;
  }
  out_.push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < text.size(); ++i) {
    if (!NeedsEscape(text[i])) continue;
    out_.append(text.data() + run, i - run);
    AppendEscape(text[i], out_);
    run = i + 1;
  }
  out_.append(text.data() + run, text.size() - run);
  out_.push_back('"');
}

JsonWriter& JsonWriter::Int(int64_t value) {
  Separate();
  AppendNumber(value, out_);
  return *this;
}

JsonWriter& JsonWriter::Uint(uint64_t value) {
  Separate();
  AppendNumber(value, out_);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  Separate();
  out_.append(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Null() {
  Separate();
  out_.append("null");
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  Separate();
  out_.append(json);
  return *this;
}

JsonWriter& JsonWriter::Base64(std::string_view bytes) {
  Separate();
  out_.push_back('"');
  AppendBase64(bytes, out_);
  out_.push_back('"');
  return *this;
}

JsonWriter& JsonWriter::Time(int64_t unix_us) {
  if (unix_us == 0) return Null();
  Separate();
  out_.push_back('"');
  AppendRfc3339(unix_us, out_);
  out_.push_back('"');
  return *this;
}

}  // namespace cmdq::protocol
