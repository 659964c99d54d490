#include "protocol/json_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace cmdq::protocol::json {
namespace {

using simdjson::error_code;

// Errors that say "the value is valid JSON, just not what you asked for": everything
// else simdjson reports means the bytes are not JSON.
bool IsTypeError(error_code error) {
  return error == simdjson::INCORRECT_TYPE || error == simdjson::NUMBER_OUT_OF_RANGE;
}

Status ScalarSkip(od::value& value, od::json_type type) {
  error_code error = simdjson::SUCCESS;
  switch (type) {
    case od::json_type::string:
      error = value.get_string().error();
      break;
    case od::json_type::number:
      // get_double reads every JSON number, also integers too big for 64 bits.
      error = value.get_double().error();
      break;
    case od::json_type::boolean:
      error = value.get_bool().error();
      break;
    case od::json_type::null: {
      bool is_null = false;
      error = value.is_null().get(is_null);
      if (error == simdjson::SUCCESS && !is_null) error = simdjson::N_ATOM_ERROR;
      break;
    }
    default:
      error = simdjson::TAPE_ERROR;
  }
  // A scalar whose first byte promised a type and whose rest broke it ("tru", "1.e")
  // is malformed JSON, whatever code simdjson chose.
  if (error == simdjson::SUCCESS) return Status::Ok();
  return SyntaxError(IsTypeError(error) ? simdjson::TAPE_ERROR : error);
}

class ThreadReaders {
 public:
  Reader body;
  Reader check;  // for IsJsonText
};

ThreadReaders& Readers() {
  thread_local ThreadReaders readers;
  return readers;
}

}  // namespace

Reader& Reader::ForThread() { return Readers().body; }

Result<od::document*> Reader::Start(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Error(Status::InvalidArgument("body", "the body is empty; a JSON value is expected"));
  }
  const size_t needed = body.size() + simdjson::SIMDJSON_PADDING;
  if (needed > capacity_) {
    capacity_ = std::max(needed, capacity_ * 2);
    buffer_ = std::make_unique<char[]>(capacity_);
  }
  std::memcpy(buffer_.get(), body.data(), body.size());
  // simdjson reads the padding; zeroed bytes keep its view of the end deterministic.
  std::memset(buffer_.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
  if (auto error = parser_.iterate(buffer_.get(), body.size(), capacity_).get(doc_)) {
    return Error(SyntaxError(error));
  }
  return &doc_;
}

Status SyntaxError(error_code error) {
  switch (error) {
    case simdjson::EMPTY:
      return Status::InvalidArgument("body", "the body is empty; a JSON value is expected");
    case simdjson::UTF8_ERROR:
      return Status::InvalidArgument("body", "the body is not valid UTF-8");
    case simdjson::DEPTH_ERROR:
      return Status::InvalidArgument(
          "body", fmt::format("the body nests deeper than {} levels", kMaxDepth));
    case simdjson::CAPACITY:
      return Status::InvalidArgument("body", "the body is too large to parse");
    default:
      return Status::InvalidArgument(
          "body", fmt::format("the body is not valid JSON ({})", simdjson::error_message(error)));
  }
}

bool IsBodyError(const Status& status) { return status.field() == "body"; }

Status Skip(od::value& value, int depth) {
  if (depth >= kMaxDepth) return SyntaxError(simdjson::DEPTH_ERROR);
  od::json_type type;
  if (auto error = value.type().get(type)) return SyntaxError(error);
  if (type == od::json_type::object) {
    od::object object;
    if (auto error = value.get_object().get(object)) return SyntaxError(error);
    for (auto member : object) {
      od::field field;
      if (auto error = std::move(member).get(field)) return SyntaxError(error);
      if (auto error = field.unescaped_key().error()) return SyntaxError(error);
      if (Status s = Skip(field.value(), depth + 1); !s.ok()) return s;
    }
    return Status::Ok();
  }
  if (type == od::json_type::array) {
    od::array array;
    if (auto error = value.get_array().get(array)) return SyntaxError(error);
    for (auto element : array) {
      od::value item;
      if (auto error = std::move(element).get(item)) return SyntaxError(error);
      if (Status s = Skip(item, depth + 1); !s.ok()) return s;
    }
    return Status::Ok();
  }
  return ScalarSkip(value, type);
}

Status CheckEnd(od::document& doc) {
  // At the end, the document has no current location; anywhere else it points at the
  // first byte after the value.
  if (doc.current_location().error() == simdjson::OUT_OF_BOUNDS) return Status::Ok();
  return Status::InvalidArgument("body", "the body has more after its JSON value");
}

Status SkipDocument(od::document& doc) {
  bool scalar = false;
  if (auto error = doc.is_scalar().get(scalar)) return SyntaxError(error);
  if (scalar) {
    // A document's scalars are read through the document, not through a value.
    od::json_type type;
    if (auto error = doc.type().get(type)) return SyntaxError(error);
    error_code error = simdjson::SUCCESS;
    switch (type) {
      case od::json_type::string:
        error = doc.get_string().error();
        break;
      case od::json_type::number:
        error = doc.get_double().error();
        break;
      case od::json_type::boolean:
        error = doc.get_bool().error();
        break;
      case od::json_type::null: {
        bool is_null = false;
        error = doc.is_null().get(is_null);
        if (error == simdjson::SUCCESS && !is_null) error = simdjson::N_ATOM_ERROR;
        break;
      }
      default:
        error = simdjson::TAPE_ERROR;
    }
    if (error != simdjson::SUCCESS) {
      return SyntaxError(IsTypeError(error) ? simdjson::TAPE_ERROR : error);
    }
  } else {
    od::value value;
    if (auto error = doc.get_value().get(value)) return SyntaxError(error);
    if (Status s = Skip(value); !s.ok()) return s;
  }
  return CheckEnd(doc);
}

Status WrongType(od::value& value, std::string_view field, std::string_view expected) {
  if (Status s = Skip(value); !s.ok()) return s;
  return Status::InvalidArgument(std::string(field), fmt::format("{} must be {}", field, expected));
}

Result<std::string_view> GetString(od::value& value, std::string_view field) {
  std::string_view text;
  auto error = value.get_string().get(text);
  if (error == simdjson::INCORRECT_TYPE) return Error(WrongType(value, field, "a string"));
  if (error) return Error(SyntaxError(error));
  return text;
}

Result<uint64_t> GetUnsigned(od::value& value, std::string_view field, uint64_t max) {
  od::json_type type;
  if (auto error = value.type().get(type)) return Error(SyntaxError(error));
  if (type != od::json_type::number) {
    return Error(WrongType(value, field, "a non-negative integer"));
  }
  const auto out_of_range = [&] {
    return Status::InvalidArgument(std::string(field),
                                   fmt::format("{} is out of range (0..{})", field, max));
  };
  // A number that is valid JSON but fits no 64-bit integer is merely too big: simdjson
  // reports those with several codes, so the number's grammar is judged by get_double.
  const auto too_big_or_malformed = [&]() -> Status {
    double ignored;
    if (auto error = value.get_double().get(ignored)) return SyntaxError(error);
    return out_of_range();
  };
  od::number_type kind;
  if (value.get_number_type().get(kind) != simdjson::SUCCESS) {
    return Error(too_big_or_malformed());
  }
  if (kind == od::number_type::floating_point_number) {
    double ignored;
    if (auto error = value.get_double().get(ignored)) return Error(SyntaxError(error));
    return Error(
        Status::InvalidArgument(std::string(field), fmt::format("{} must be an integer", field)));
  }
  if (kind == od::number_type::signed_integer) {
    int64_t signed_value;
    if (value.get_int64().get(signed_value) != simdjson::SUCCESS) {
      return Error(too_big_or_malformed());
    }
    if (signed_value < 0) {
      return Error(Status::InvalidArgument(std::string(field),
                                           fmt::format("{} must not be negative", field)));
    }
    if (static_cast<uint64_t>(signed_value) > max) return Error(out_of_range());
    return static_cast<uint64_t>(signed_value);
  }
  uint64_t unsigned_value;
  if (value.get_uint64().get(unsigned_value) != simdjson::SUCCESS) {
    return Error(too_big_or_malformed());
  }
  if (unsigned_value > max) return Error(out_of_range());
  return unsigned_value;
}

Result<bool> GetBool(od::value& value, std::string_view field) {
  bool result;
  auto error = value.get_bool().get(result);
  if (error == simdjson::INCORRECT_TYPE) return Error(WrongType(value, field, "true or false"));
  if (error) return Error(SyntaxError(error));
  return result;
}

Result<od::object> GetObject(od::value& value, std::string_view field) {
  od::object object;
  auto error = value.get_object().get(object);
  if (error == simdjson::INCORRECT_TYPE) return Error(WrongType(value, field, "an object"));
  if (error) return Error(SyntaxError(error));
  return object;
}

Result<od::object> GetRootObject(od::document& doc, std::string_view message) {
  od::object object;
  if (auto error = doc.get_object().get(object)) {
    if (error != simdjson::INCORRECT_TYPE) return Error(SyntaxError(error));
    if (Status s = SkipDocument(doc); !s.ok()) return Error(s);
    return Error(Status::InvalidArgument("body", std::string(message)));
  }
  return object;
}

Result<od::array> GetArray(od::value& value, std::string_view field) {
  od::array array;
  auto error = value.get_array().get(array);
  if (error == simdjson::INCORRECT_TYPE) return Error(WrongType(value, field, "an array"));
  if (error) return Error(SyntaxError(error));
  return array;
}

Result<bool> ConsumeNull(od::value& value) {
  od::json_type type;
  if (auto error = value.type().get(type)) return Error(SyntaxError(error));
  if (type != od::json_type::null) return false;
  if (Status s = ScalarSkip(value, type); !s.ok()) return Error(s);
  return true;
}

Result<std::string_view> GetRawJson(od::value& value) {
  // The token's pointer is where the value starts in our padded copy; after the walk the
  // iterator stands on the next structural character, where the value ends.
  const char* start = value.raw_json_token().data();
  if (Status s = Skip(value); !s.ok()) return Error(s);
  const char* end = nullptr;
  if (auto error = value.current_location().get(end)) return Error(SyntaxError(error));
  std::string_view text(start, static_cast<size_t>(end - start));
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

bool IsJsonText(std::string_view text) {
  Reader& reader = Readers().check;
  auto doc = reader.Start(text);
  return doc.has_value() && SkipDocument(**doc).ok();
}

Status ForEachBatchItemIn(od::array& array, const BatchShape& shape, std::string_view field,
                          const std::function<Status(od::object*)>& on_item, size_t& count) {
  count = 0;
  for (auto element : array) {
    od::value item;
    if (auto error = std::move(element).get(item)) return SyntaxError(error);
    if (count++ == shape.max_items) {
      return Status(StatusCode::kResourceExhausted,
                    fmt::format("a batch holds at most {} {}s", shape.max_items, shape.noun),
                    std::string(field));
    }
    auto object = GetObject(item, "item");
    if (!object && IsBodyError(object.error())) return object.error();
    Status status = on_item(object ? &*object : nullptr);
    if (IsBodyError(status)) return status;
  }
  return Status::Ok();
}

Status ForEachBatchItem(std::string_view body, const BatchShape& shape,
                        const std::function<Status(od::object*)>& on_item) {
  auto doc = Reader::ForThread().Start(body);
  if (!doc) return doc.error();
  od::array array;
  if (auto error = (*doc)->get_array().get(array)) {
    if (error != simdjson::INCORRECT_TYPE) return SyntaxError(error);
    if (Status s = SkipDocument(**doc); !s.ok()) return s;
    return Status::InvalidArgument("body",
                                   fmt::format("a batch is a JSON array of {}s", shape.noun));
  }
  size_t count = 0;
  if (Status s = ForEachBatchItemIn(array, shape, "body", on_item, count); !s.ok()) return s;
  if (Status s = CheckEnd(**doc); !s.ok()) return s;
  if (count == 0) return Status::InvalidArgument("body", "the batch is empty");
  return Status::Ok();
}

}  // namespace cmdq::protocol::json
