#include "core/codec.h"

#include <xxhash.h>

#include <cstring>
#include <limits>

namespace cmdq {
namespace {

constexpr size_t kHeaderBytes = 2;    // magic, version
constexpr size_t kChecksumBytes = 4;  // little-endian low 32 bits of XXH3_64
constexpr size_t kMaxVarintBytes = 10;

uint32_t Checksum(const char* data, size_t n) {
  return static_cast<uint32_t>(XXH3_64bits(data, n));
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// ---- Encoding: one buffer sized once by an upper bound, written through a raw pointer.

size_t BytesBound(std::string_view s) { return kMaxVarintBytes + s.size(); }

size_t CommandFieldsBound(const Command& c) {
  size_t n = 7 * kMaxVarintBytes + BytesBound(c.type) + BytesBound(c.key) + BytesBound(c.payload) +
             BytesBound(c.idempotency_key);
  for (const auto& [name, value] : c.headers) {
    n += BytesBound(name) + BytesBound(value);
  }
  return n;
}

class Writer {
 public:
  explicit Writer(char* p) : begin_(p), p_(p) {}

  void Byte(char b) { *p_++ = b; }
  void U64(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void I64(int64_t v) { U64(ZigZag(v)); }
  void Bytes(std::string_view s) {
    U64(s.size());
    if (!s.empty()) {
      std::memcpy(p_, s.data(), s.size());
      p_ += s.size();
    }
  }
  void Checksum() {
    uint32_t sum = cmdq::Checksum(begin_, written());
    for (int i = 0; i < 4; ++i) {
      *p_++ = static_cast<char>((sum >> (8 * i)) & 0xFF);
    }
  }
  size_t written() const { return static_cast<size_t>(p_ - begin_); }

 private:
  char* begin_;
  char* p_;
};

void WriteCommandFields(Writer& w, const Command& c) {
  w.U64(c.id.value());
  w.Bytes(c.type);
  w.Bytes(c.key);
  w.Bytes(c.payload);
  w.U64(c.payload_is_json ? 1 : 0);
  w.Bytes(c.idempotency_key);
  w.U64(c.headers.size());
  for (const auto& [name, value] : c.headers) {
    w.Bytes(name);
    w.Bytes(value);
  }
  w.I64(c.not_before_us);
  w.U64(c.max_attempts);
  w.U64(c.timeout_ms);
  w.I64(c.created_at_us);
}

// Writes magic, version, the fields, and the checksum into a string sized by `bound`.
template <typename Fields>
std::string Encode(char magic, size_t fields_bound, Fields&& write_fields) {
  std::string out;
  out.resize_and_overwrite(kHeaderBytes + fields_bound + kChecksumBytes, [&](char* p, size_t) {
    Writer w(p);
    w.Byte(magic);
    w.Byte(static_cast<char>(kCodecVersion));
    write_fields(w);
    w.Checksum();
    return w.written();
  });
  return out;
}

// ---- Decoding: a reader whose first error sticks; later reads return defaults, so a
// decoder reads all fields and checks once.

class Reader {
 public:
  Reader(std::string_view what, std::string_view body) : what_(what), in_(body) {}

  uint64_t U64(const char* field) {
    uint64_t v = 0;
    for (int shift = 0; ok(); shift += 7) {
      if (pos_ >= in_.size()) {
        Truncated(field);
        return 0;
      }
      auto byte = static_cast<uint8_t>(in_[pos_++]);
      // The tenth byte holds only bit 63: anything more is not a uint64.
      if (shift == 63 && byte > 1) {
        Fail(std::string("varint of field ") + field + " overflows 64 bits");
        return 0;
      }
      v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    return 0;
  }

  uint32_t U32(const char* field) {
    uint64_t v = U64(field);
    if (v > std::numeric_limits<uint32_t>::max()) {
      Fail(std::string("field ") + field + " overflows 32 bits");
      return 0;
    }
    return static_cast<uint32_t>(v);
  }

  int64_t I64(const char* field) { return UnZigZag(U64(field)); }

  bool Bool(const char* field) {
    uint64_t v = U64(field);
    if (v > 1) Invalid(field, v);
    return v == 1;
  }

  State StateField(const char* field, bool allow_none) {
    uint64_t v = U64(field);
    if (v >= static_cast<uint64_t>(kStateCount) || (v == 0 && !allow_none)) {
      Invalid(field, v);
      return State::kNone;
    }
    return static_cast<State>(v);
  }

  std::string_view BytesView(const char* field) {
    uint64_t n = U64(field);
    if (!ok()) return {};
    if (n > in_.size() - pos_) {
      Truncated(field);
      return {};
    }
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string Bytes(const char* field) { return std::string(BytesView(field)); }

  // A count of items each at least `min_item_bytes` long: refused before anything is
  // reserved for it if the rest of the input cannot hold that many.
  uint64_t Count(const char* field, size_t min_item_bytes) {
    uint64_t n = U64(field);
    if (ok() && n > (in_.size() - pos_) / min_item_bytes) {
      Truncated(field);
      return 0;
    }
    return n;
  }

  Status Finish() {
    if (ok() && pos_ != in_.size()) {
      Fail(std::to_string(in_.size() - pos_) + " unexpected bytes after the last field");
    }
    return status_;
  }

  bool ok() const { return status_.ok(); }

 private:
  void Truncated(const char* field) { Fail(std::string("truncated in field ") + field); }
  void Invalid(const char* field, uint64_t v) {
    Fail(std::string("field ") + field + " has invalid value " + std::to_string(v));
  }
  void Fail(std::string message) {
    if (ok()) status_ = Status::Corruption(std::string(what_) + ": " + message);
  }

  std::string_view what_;
  std::string_view in_;
  size_t pos_ = 0;
  Status status_;
};

// Checks the frame (magic, version, checksum) and returns the field bytes inside it.
Result<std::string_view> Unframe(std::string_view bytes, char magic, std::string_view what) {
  auto corrupt = [what](std::string message) {
    return Error(Status::Corruption(std::string(what) + ": " + message));
  };
  if (bytes.size() < kHeaderBytes + kChecksumBytes) {
    return corrupt("truncated: " + std::to_string(bytes.size()) + " bytes is shorter than a frame");
  }
  if (bytes[0] != magic) {
    return corrupt("bad magic byte " + std::to_string(static_cast<uint8_t>(bytes[0])) + " (want '" +
                   std::string(1, magic) + "')");
  }
  // The version is checked before the checksum: a newer format may checksum differently,
  // and "upgrade this build" is the useful answer.
  auto version = static_cast<uint8_t>(bytes[1]);
  if (version > kCodecVersion) {
    return Error(Status::Corruption(
        std::string(what) + " format version " + std::to_string(version) +
        " is newer than this build understands (" + std::to_string(kCodecVersion) + ")"));
  }
  if (version == 0) {
    return corrupt("unknown format version 0");
  }
  size_t body_end = bytes.size() - kChecksumBytes;
  uint32_t stored = 0;
  for (size_t i = 0; i < kChecksumBytes; ++i) {
    stored |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[body_end + i])) << (8 * i);
  }
  if (stored != Checksum(bytes.data(), body_end)) {
    return corrupt("checksum mismatch");
  }
  return bytes.substr(kHeaderBytes, body_end - kHeaderBytes);
}

void ReadCommandFields(Reader& r, Command& c) {
  c.id = CommandId(r.U64("id"));
  c.type = r.Bytes("type");
  c.key = r.Bytes("key");
  c.payload = r.Bytes("payload");
  c.payload_is_json = r.Bool("payload_is_json");
  c.idempotency_key = r.Bytes("idempotency_key");
  // Each header is two length prefixes at least.
  uint64_t headers = r.Count("headers", 2);
  c.headers.reserve(headers);
  for (uint64_t i = 0; i < headers && r.ok(); ++i) {
    std::string name = r.Bytes("headers");
    std::string value = r.Bytes("headers");
    c.headers.emplace_back(std::move(name), std::move(value));
  }
  c.not_before_us = r.I64("not_before_us");
  c.max_attempts = r.U32("max_attempts");
  c.timeout_ms = r.U32("timeout_ms");
  c.created_at_us = r.I64("created_at_us");
}

}  // namespace

std::string EncodeCommand(const Command& command) {
  return Encode(kCommandMagic, CommandFieldsBound(command),
                [&](Writer& w) { WriteCommandFields(w, command); });
}

Result<Command> DecodeCommand(std::string_view bytes) {
  auto body = Unframe(bytes, kCommandMagic, "command");
  if (!body) return Error(std::move(body.error()));
  Reader r("command", *body);
  Command c;
  ReadCommandFields(r, c);
  if (Status s = r.Finish(); !s.ok()) return Error(std::move(s));
  return c;
}

std::string EncodeRecord(const Record& record) {
  size_t bound = CommandFieldsBound(record.command) + 5 * kMaxVarintBytes +
                 BytesBound(record.lease_worker) + BytesBound(record.result) +
                 BytesBound(record.error);
  return Encode(kRecordMagic, bound, [&](Writer& w) {
    WriteCommandFields(w, record.command);
    w.U64(static_cast<uint64_t>(record.state));
    w.U64(record.attempt);
    w.Bytes(record.lease_worker);
    w.I64(record.lease_expires_us);
    w.Bytes(record.result);
    w.Bytes(record.error);
    w.I64(record.next_attempt_us);
    w.I64(record.updated_at_us);
  });
}

Result<Record> DecodeRecord(std::string_view bytes) {
  auto body = Unframe(bytes, kRecordMagic, "record");
  if (!body) return Error(std::move(body.error()));
  Reader r("record", *body);
  Record rec;
  ReadCommandFields(r, rec.command);
  rec.state = r.StateField("state", /*allow_none=*/false);
  rec.attempt = r.U32("attempt");
  rec.lease_worker = r.Bytes("lease_worker");
  rec.lease_expires_us = r.I64("lease_expires_us");
  rec.result = r.Bytes("result");
  rec.error = r.Bytes("error");
  rec.next_attempt_us = r.I64("next_attempt_us");
  rec.updated_at_us = r.I64("updated_at_us");
  if (Status s = r.Finish(); !s.ok()) return Error(std::move(s));
  return rec;
}

std::string EncodeAuditEvent(const AuditEvent& event) {
  size_t bound = 6 * kMaxVarintBytes + BytesBound(event.worker) + BytesBound(event.message);
  return Encode(kAuditEventMagic, bound, [&](Writer& w) {
    w.U64(event.id.value());
    w.U64(event.sequence);
    w.I64(event.time_us);
    w.U64(static_cast<uint64_t>(event.from));
    w.U64(static_cast<uint64_t>(event.to));
    w.U64(event.attempt);
    w.Bytes(event.worker);
    w.Bytes(event.message);
  });
}

Result<AuditEvent> DecodeAuditEvent(std::string_view bytes) {
  auto body = Unframe(bytes, kAuditEventMagic, "audit event");
  if (!body) return Error(std::move(body.error()));
  Reader r("audit event", *body);
  AuditEvent e;
  e.id = CommandId(r.U64("id"));
  e.sequence = r.U32("sequence");
  e.time_us = r.I64("time_us");
  e.from = r.StateField("from", /*allow_none=*/true);
  e.to = r.StateField("to", /*allow_none=*/false);
  e.attempt = r.U32("attempt");
  e.worker = r.Bytes("worker");
  e.message = r.Bytes("message");
  if (Status s = r.Finish(); !s.ok()) return Error(std::move(s));
  return e;
}

std::string EncodeRecordStatus(const RecordStatus& status) {
  size_t bound = 6 * kMaxVarintBytes + BytesBound(status.lease_worker) + BytesBound(status.result) +
                 BytesBound(status.error);
  for (const AuditEvent& e : status.audit) {
    bound += 4 * kMaxVarintBytes + BytesBound(e.worker) + BytesBound(e.message);
  }
  return Encode(kRecordStatusMagic, bound, [&](Writer& w) {
    w.U64(static_cast<uint64_t>(status.state));
    w.U64(status.attempt);
    w.Bytes(status.lease_worker);
    w.I64(status.lease_expires_us);
    w.Bytes(status.result);
    w.Bytes(status.error);
    w.I64(status.next_attempt_us);
    w.I64(status.updated_at_us);
    w.U64(status.audit.size());
    for (const AuditEvent& e : status.audit) {
      w.I64(e.time_us);
      w.U64(static_cast<uint64_t>(e.from));
      w.U64(static_cast<uint64_t>(e.to));
      w.U64(e.attempt);
      w.Bytes(e.worker);
      w.Bytes(e.message);
    }
  });
}

Result<RecordStatus> DecodeRecordStatus(std::string_view bytes, CommandId id) {
  auto body = Unframe(bytes, kRecordStatusMagic, "record status");
  if (!body) return Error(std::move(body.error()));
  Reader r("record status", *body);
  RecordStatus st;
  st.state = r.StateField("state", /*allow_none=*/false);
  st.attempt = r.U32("attempt");
  st.lease_worker = r.Bytes("lease_worker");
  st.lease_expires_us = r.I64("lease_expires_us");
  st.result = r.Bytes("result");
  st.error = r.Bytes("error");
  st.next_attempt_us = r.I64("next_attempt_us");
  st.updated_at_us = r.I64("updated_at_us");
  // An event is six fields of at least one byte each.
  uint64_t events = r.Count("audit", 6);
  st.audit.reserve(events);
  for (uint64_t i = 0; i < events && r.ok(); ++i) {
    AuditEvent& e = st.audit.emplace_back();
    e.id = id;
    e.sequence = static_cast<uint32_t>(i);
    e.time_us = r.I64("audit.time_us");
    e.from = r.StateField("audit.from", /*allow_none=*/true);
    e.to = r.StateField("audit.to", /*allow_none=*/false);
    e.attempt = r.U32("audit.attempt");
    e.worker = r.Bytes("audit.worker");
    e.message = r.Bytes("audit.message");
  }
  if (Status s = r.Finish(); !s.ok()) return Error(std::move(s));
  return st;
}

Record RecordOf(Command command, RecordStatus&& st) {
  return Record{.command = std::move(command),
                .state = st.state,
                .attempt = st.attempt,
                .lease_worker = std::move(st.lease_worker),
                .lease_expires_us = st.lease_expires_us,
                .result = std::move(st.result),
                .error = std::move(st.error),
                .next_attempt_us = st.next_attempt_us,
                .updated_at_us = st.updated_at_us};
}

RecordStatus StatusOf(const Record& r, std::vector<AuditEvent> audit) {
  return RecordStatus{.state = r.state,
                      .attempt = r.attempt,
                      .lease_worker = r.lease_worker,
                      .lease_expires_us = r.lease_expires_us,
                      .result = r.result,
                      .error = r.error,
                      .next_attempt_us = r.next_attempt_us,
                      .updated_at_us = r.updated_at_us,
                      .audit = std::move(audit)};
}

}  // namespace cmdq
