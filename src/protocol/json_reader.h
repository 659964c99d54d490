// Reading request bodies with simdjson's On Demand API: the helpers every parser of this
// module shares. Private to src/protocol (it exposes simdjson types).
//
// Why On Demand (docs/decisions/0030-json-codecs.md): one pass, no tape, strings read
// straight into the Command, a JSON payload kept as the exact text the client sent, and
// a number's error reported at its field ("max_attempts is out of range") rather than as
// a parse failure of the whole body. On Demand validates only what it reads, so these
// helpers read everything: a value that is skipped (an unknown field, the rest of an
// object after a bad field, a JSON payload) is walked by Skip(), and any malformed JSON
// anywhere becomes the same error, field "body", as a parse failure would.
//
// Errors are values: simdjson is used through its error codes, never exceptions.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::protocol::json {

namespace od = simdjson::ondemand;

// One parser and one padded copy of the body per thread, reused for every request: no
// allocation per request once warm, one memcpy of the body (simdjson reads up to 64 bytes
// past the end, and a string_view from the server gives no such promise).
class Reader {
 public:
  // The calling thread's reader for request bodies. A document started on it lives
  // until the next Start() on this thread, so parsers copy out what they keep.
  static Reader& ForThread();

  Reader() = default;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Copies `body` and starts a document over it. kInvalidArgument (field "body") for an
  // empty body or one that is not UTF-8 or not JSON at the outset.
  Result<od::document*> Start(std::string_view body);

 private:
  od::parser parser_;
  od::document doc_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
};

// Nesting deeper than this is refused (field "body"): the walk is recursive.
inline constexpr int kMaxDepth = 128;

// The error of a body that is not JSON: field "body".
Status SyntaxError(simdjson::error_code error);
bool IsBodyError(const Status& status);

// Walks `value` to its end, validating it. OK or a SyntaxError.
Status Skip(od::value& value, int depth = 0);
// Like Skip for a whole document, which may be a scalar; also refuses trailing content.
Status SkipDocument(od::document& doc);
// After the top-level value: refuses a second value or other trailing bytes.
Status CheckEnd(od::document& doc);

// `value` is not what `field` wants: the error saying `expected` ("a string"), unless the
// value is not even valid JSON, which is the body's error.
Status WrongType(od::value& value, std::string_view field, std::string_view expected);

// Typed reads. The string views point into the thread's Reader: copy them to keep them.
Result<std::string_view> GetString(od::value& value, std::string_view field);
Result<uint64_t> GetUnsigned(od::value& value, std::string_view field, uint64_t max);
Result<bool> GetBool(od::value& value, std::string_view field);
Result<od::object> GetObject(od::value& value, std::string_view field);
// The body's top-level object; a body that is valid JSON of another kind is refused with
// field "body" and `message`, malformed JSON with the syntax error.
Result<od::object> GetRootObject(od::document& doc, std::string_view message);
Result<od::array> GetArray(od::value& value, std::string_view field);
// True, with the value consumed, when it is JSON null; false (nothing consumed) otherwise.
Result<bool> ConsumeNull(od::value& value);
// The exact text of any JSON value (validated), without surrounding whitespace.
Result<std::string_view> GetRawJson(od::value& value);

// True when `text` is exactly one JSON value (whitespace around it allowed). Uses its own
// thread-local reader, so it may run while a request document is open.
bool IsJsonText(std::string_view text);

// What a batch body holds, for ForEachBatchItem's errors.
struct BatchShape {
  std::string_view noun;  // what one item is ("command"), for the messages
  size_t max_items;       // more is kResourceExhausted (413), field "body"
};

// Walks a body that is a JSON array (a batch), calling on_item(&object) for each item
// that is an object and on_item(nullptr) for one that is not. Fails for the body as a
// whole: not JSON, not an array or empty (kInvalidArgument, "body"), more than
// shape.max_items (kResourceExhausted, "body"), or a body error that on_item returns;
// any other Status on_item returns is the item's own, kept by the caller.
Status ForEachBatchItem(std::string_view body, const BatchShape& shape,
                        const std::function<Status(od::object*)>& on_item);
// The same walk over an array that is a member (`field`) of a body: more than
// shape.max_items is kResourceExhausted naming `field`; an empty array is the caller's to
// judge (`count` says how many items there were).
Status ForEachBatchItemIn(od::array& array, const BatchShape& shape, std::string_view field,
                          const std::function<Status(od::object*)>& on_item, size_t& count);

// Calls on_field(name, value) for each member of `object`. The first error that names a
// field is kept while the rest of the object is still walked (so malformed JSON later in
// the body wins, and a batch can go on to its next item); a body error stops at once.
template <typename OnField>
Status ForEachField(od::object& object, OnField&& on_field) {
  Status first;
  for (auto member : object) {
    od::field field;
    if (auto error = std::move(member).get(field)) return SyntaxError(error);
    std::string_view name;
    if (auto error = field.unescaped_key().get(name)) return SyntaxError(error);
    od::value value = field.value();
    Status status = first.ok() ? on_field(name, value) : Skip(value);
    if (status.ok()) continue;
    if (IsBodyError(status)) return status;
    first = std::move(status);
  }
  return first;
}

}  // namespace cmdq::protocol::json
