// JsonWriter: builds one JSON text into a string, for the API's responses.
//
// Hand-written rather than a DOM serializer: responses are built once from records, so
// appending straight to one buffer (reserved up front) is the cheapest way, and a writer
// that never throws fits errors-as-values. Commas are placed by the writer; the caller
// only nests Begin/End calls correctly and puts a Key before each value of an object.
// Strings are escaped (", \, control characters) and ill-formed UTF-8 is replaced by
// U+FFFD, so the output is always valid JSON in UTF-8 whatever bytes a caller stored.
// Not thread-safe: one writer per response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cmdq::protocol {

class JsonWriter {
 public:
  explicit JsonWriter(size_t reserve = 256) {
    out_.reserve(reserve);
    has_value_.reserve(8);
  }

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view name);

  JsonWriter& String(std::string_view text);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A JSON value written as it is: the caller vouches that `json` is one valid value.
  JsonWriter& Raw(std::string_view json);
  // `bytes` as a base64 string (protocol/base64.h).
  JsonWriter& Base64(std::string_view bytes);
  // A time as an RFC 3339 string (protocol/rfc3339.h); 0 (unset) is written as null.
  JsonWriter& Time(int64_t unix_us);

  const std::string& str() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  // Puts the comma before a value or key that is not the first of its container.
  void Separate();
  void Open(char bracket);
  void Close(char bracket);
  void AppendEscaped(std::string_view text);

  std::string out_;
  std::vector<bool> has_value_;  // per open container: has it a member yet?
  bool after_key_ = false;
};

}  // namespace cmdq::protocol
