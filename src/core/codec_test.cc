#include "core/codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <tuple>

#include "core/partitioner.h"

namespace cmdq {
namespace {

auto Fields(const Command& c) {
  return std::tie(c.id, c.type, c.key, c.payload, c.payload_is_json, c.idempotency_key, c.headers,
                  c.not_before_us, c.max_attempts, c.timeout_ms, c.created_at_us);
}
auto Fields(const Record& r) {
  return std::tuple_cat(Fields(r.command),
                        std::tie(r.state, r.attempt, r.lease_worker, r.lease_expires_us, r.result,
                                 r.error, r.next_attempt_us, r.updated_at_us));
}
auto Fields(const AuditEvent& e) {
  return std::tie(e.id, e.sequence, e.time_us, e.from, e.to, e.attempt, e.worker, e.message);
}

std::string RandomBytes(std::mt19937_64& rng, size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

int64_t RandomI64(std::mt19937_64& rng) {
  // Extremes and signs both: zigzag must carry them.
  switch (rng() % 4) {
    case 0:
      return std::numeric_limits<int64_t>::min();
    case 1:
      return std::numeric_limits<int64_t>::max();
    default:
      return static_cast<int64_t>(rng()) >> (rng() % 64);
  }
}

Record RandomRecord(std::mt19937_64& rng) {
  Record r;
  r.command.id = CommandId(rng() | 1);
  r.command.type = RandomBytes(rng, 20) + "t";
  r.command.key = RandomBytes(rng, 40) + "k";
  r.command.payload = RandomBytes(rng, 2000) + "p";
  r.command.payload_is_json = rng() % 2 == 0;
  r.command.idempotency_key = RandomBytes(rng, 30) + "i";
  for (size_t i = 0, n = 1 + rng() % 5; i < n; ++i) {
    r.command.headers.emplace_back(RandomBytes(rng, 10), RandomBytes(rng, 200));
  }
  r.command.not_before_us = RandomI64(rng);
  r.command.max_attempts = static_cast<uint32_t>(rng());
  r.command.timeout_ms = static_cast<uint32_t>(rng());
  r.command.created_at_us = RandomI64(rng);
  r.state = static_cast<State>(1 + rng() % (kStateCount - 1));
  r.attempt = static_cast<uint32_t>(rng());
  r.lease_worker = RandomBytes(rng, 30) + "w";
  r.lease_expires_us = RandomI64(rng);
  r.result = RandomBytes(rng, 500) + "r";
  r.error = RandomBytes(rng, 100) + "e";
  r.next_attempt_us = RandomI64(rng);
  r.updated_at_us = RandomI64(rng);
  return r;
}

// The frame's checksum, as the codec computes it: the low 32 bits of XXH3_64.
std::string WithChecksum(std::string body) {
  auto sum = static_cast<uint32_t>(KeyHash(body));
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>((sum >> (8 * i)) & 0xFF));
  return body;
}

std::string WithoutChecksum(const std::string& bytes) { return bytes.substr(0, bytes.size() - 4); }

TEST(Codec, RecordRoundTripsWithAllFieldsSet) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200; ++i) {
    Record r = RandomRecord(rng);
    auto decoded = DecodeRecord(EncodeRecord(r));
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_TRUE(Fields(*decoded) == Fields(r)) << i;
  }
}

TEST(Codec, RecordRoundTripsEmpty) {
  Record r;
  std::string bytes = EncodeRecord(r);
  EXPECT_EQ(bytes[0], 'R');
  EXPECT_EQ(bytes[1], 1);
  auto decoded = DecodeRecord(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_TRUE(Fields(*decoded) == Fields(r));
}

TEST(Codec, RecordRoundTripsMebibytePayload) {
  std::mt19937_64 rng(2);
  Record r = RandomRecord(rng);
  r.command.payload.assign(1 << 20, '\0');
  for (char& c : r.command.payload) c = static_cast<char>(rng());
  std::string bytes = EncodeRecord(r);
  EXPECT_GT(bytes.size(), size_t{1} << 20);
  auto decoded = DecodeRecord(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_TRUE(Fields(*decoded) == Fields(r));
}

TEST(Codec, CommandRoundTrips) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100; ++i) {
    Command c = RandomRecord(rng).command;
    std::string bytes = EncodeCommand(c);
    EXPECT_EQ(bytes[0], 'C');
    auto decoded = DecodeCommand(bytes);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_TRUE(Fields(*decoded) == Fields(c));
  }
  auto empty = DecodeCommand(EncodeCommand(Command{}));
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(Fields(*empty) == Fields(Command{}));
}

TEST(Codec, AuditEventRoundTrips) {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 100; ++i) {
    AuditEvent e;
    e.id = CommandId(rng());
    e.sequence = static_cast<uint32_t>(rng());
    e.time_us = RandomI64(rng);
    e.from = static_cast<State>(rng() % kStateCount);
    e.to = static_cast<State>(1 + rng() % (kStateCount - 1));
    e.attempt = static_cast<uint32_t>(rng());
    e.worker = RandomBytes(rng, 20);
    e.message = RandomBytes(rng, 200);
    std::string bytes = EncodeAuditEvent(e);
    EXPECT_EQ(bytes[0], 'A');
    auto decoded = DecodeAuditEvent(bytes);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_TRUE(Fields(*decoded) == Fields(e));
  }
}

TEST(Codec, RejectsEveryTruncation) {
  std::mt19937_64 rng(5);
  std::string bytes = EncodeRecord(RandomRecord(rng));
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = DecodeRecord(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(decoded.has_value()) << n;
    EXPECT_EQ(decoded.error().code(), StatusCode::kCorruption) << n;
  }
}

TEST(Codec, NamesTheFieldATruncationCutsEvenWithAValidChecksum) {
  // A writer bug, not bit rot: the checksum matches but the fields stop early.
  std::mt19937_64 rng(6);
  std::string body = WithoutChecksum(EncodeRecord(RandomRecord(rng)));
  for (size_t n = 2; n < body.size(); ++n) {
    auto decoded = DecodeRecord(WithChecksum(body.substr(0, n)));
    ASSERT_FALSE(decoded.has_value()) << n;
    EXPECT_EQ(decoded.error().code(), StatusCode::kCorruption);
    EXPECT_NE(decoded.error().message().find("record: truncated in field "), std::string::npos)
        << decoded.error().message();
  }
  Record r;
  r.command.payload = "0123456789";
  body = WithoutChecksum(EncodeRecord(r));
  size_t cut = body.find("01234") + 3;
  auto decoded = DecodeRecord(WithChecksum(body.substr(0, cut)));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().message(), "record: truncated in field payload");
}

TEST(Codec, RejectsEveryFlippedByte) {
  std::mt19937_64 rng(7);
  std::string bytes = EncodeRecord(RandomRecord(rng));
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xFF}}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(static_cast<uint8_t>(bad[i]) ^ mask);
      auto decoded = DecodeRecord(bad);
      ASSERT_FALSE(decoded.has_value()) << i;
      EXPECT_EQ(decoded.error().code(), StatusCode::kCorruption);
    }
  }
  std::string bad = bytes;
  bad[bytes.size() / 2] ^= 0x10;
  EXPECT_EQ(DecodeRecord(bad).error().message(), "record: checksum mismatch");
}

TEST(Codec, RejectsNewerVersion) {
  std::string bytes = EncodeRecord(Record{});
  bytes[1] = 2;
  auto decoded = DecodeRecord(WithChecksum(WithoutChecksum(bytes)));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code(), StatusCode::kCorruption);
  EXPECT_EQ(decoded.error().message(),
            "record format version 2 is newer than this build understands (1)");
}

TEST(Codec, RejectsWrongMagic) {
  std::string command = EncodeCommand(Command{});
  auto as_record = DecodeRecord(command);
  ASSERT_FALSE(as_record.has_value());
  EXPECT_EQ(as_record.error().code(), StatusCode::kCorruption);
  EXPECT_NE(as_record.error().message().find("magic"), std::string::npos);
  EXPECT_FALSE(DecodeAuditEvent(EncodeRecord(Record{})).has_value());
  AuditEvent event;
  event.to = State::kPending;
  EXPECT_FALSE(DecodeCommand(EncodeAuditEvent(event)).has_value());
}

TEST(Codec, RejectsInvalidStateAndTrailingBytes) {
  Record r;
  std::string body = WithoutChecksum(EncodeRecord(r));
  // The default record's command fields are eleven one-byte zeros (no headers), so its
  // state byte follows them at offset 2 + 11.
  ASSERT_EQ(body[2 + 11], static_cast<char>(State::kPending));
  body[2 + 11] = 9;
  auto decoded = DecodeRecord(WithChecksum(body));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().message(), "record: field state has invalid value 9");

  body = WithoutChecksum(EncodeRecord(r)) + "xy";
  decoded = DecodeRecord(WithChecksum(body));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().message(), "record: 2 unexpected bytes after the last field");
}

TEST(Codec, RejectsHugeLengthsWithoutAllocating) {
  // A header count of 2^62 and a byte length of 2^63 - 1 with a valid checksum.
  std::string body = "R\x01";
  body += '\x01';                            // id
  for (int i = 0; i < 4; ++i) body += '\0';  // type, key, payload, payload_is_json
  body += '\0';                              // idempotency_key
  body += std::string("\x80\x80\x80\x80\x80\x80\x80\x80\x40", 9);  // headers count
  auto decoded = DecodeRecord(WithChecksum(body));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().message(), "record: truncated in field headers");

  body = "R\x01\x01";
  body += std::string("\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 9);  // type length
  decoded = DecodeRecord(WithChecksum(body));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().message(), "record: truncated in field type");

  body = "R\x01";
  body += std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);  // 11-byte varint
  decoded = DecodeRecord(WithChecksum(body));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code(), StatusCode::kCorruption);
}

RecordStatus RandomStatus(std::mt19937_64& rng, CommandId id) {
  Record r = RandomRecord(rng);
  RecordStatus st = StatusOf(r);
  for (size_t i = 0, n = rng() % 6; i < n; ++i) {
    st.audit.push_back(AuditEvent{.id = id,
                                  .sequence = static_cast<uint32_t>(i),
                                  .time_us = RandomI64(rng),
                                  .from = static_cast<State>(rng() % kStateCount),
                                  .to = static_cast<State>(1 + rng() % (kStateCount - 1)),
                                  .attempt = static_cast<uint32_t>(rng()),
                                  .worker = RandomBytes(rng, 20),
                                  .message = RandomBytes(rng, 100)});
  }
  return st;
}

auto Fields(const RecordStatus& s) {
  std::vector<decltype(Fields(AuditEvent{}))> audit;
  for (const AuditEvent& e : s.audit) audit.push_back(Fields(e));
  return std::make_tuple(s.state, s.attempt, s.lease_worker, s.lease_expires_us, s.result, s.error,
                         s.next_attempt_us, s.updated_at_us, audit);
}

TEST(Codec, RecordStatusRoundTripsAndFillsIdAndSequence) {
  std::mt19937_64 rng(9);
  for (int i = 0; i < 200; ++i) {
    CommandId id(rng() | 1);
    RecordStatus st = RandomStatus(rng, id);
    std::string bytes = EncodeRecordStatus(st);
    EXPECT_EQ(bytes[0], 'S');
    EXPECT_EQ(bytes[1], 1);
    auto decoded = DecodeRecordStatus(bytes, id);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_TRUE(Fields(*decoded) == Fields(st)) << i;
  }
}

TEST(Codec, RecordStatusRejectsEveryTruncationAndFlippedByte) {
  std::mt19937_64 rng(10);
  RecordStatus st = RandomStatus(rng, CommandId(7));
  st.audit.resize(2);
  std::string bytes = EncodeRecordStatus(st);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = DecodeRecordStatus(std::string_view(bytes).substr(0, n), CommandId(7));
    ASSERT_FALSE(decoded.has_value()) << n;
    EXPECT_EQ(decoded.error().code(), StatusCode::kCorruption) << n;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_FALSE(DecodeRecordStatus(bad, CommandId(7)).has_value()) << i;
  }
}

TEST(Codec, RecordStatusNamesAnInvalidAuditState) {
  std::string body("S\x01", 2);
  body += '\x04';                            // state succeeded
  for (int i = 0; i < 7; ++i) body += '\0';  // attempt .. updated_at_us
  body += '\x01';                            // one event
  body += '\0';                              // time
  body += '\0';                              // from none
  body += '\x0c';                            // to 12
  body += std::string(3, '\0');              // attempt, worker, message
  auto decoded = DecodeRecordStatus(WithChecksum(body), CommandId(1));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().message(), "record status: field audit.to has invalid value 12");
  auto newer = EncodeRecordStatus(RecordStatus{});
  newer[1] = 2;
  EXPECT_NE(DecodeRecordStatus(newer, CommandId(1)).error().message().find("newer"),
            std::string::npos);
}

TEST(Codec, SurvivesRandomInput) {
  std::mt19937_64 rng(8);
  for (int i = 0; i < 20'000; ++i) {
    std::string junk = RandomBytes(rng, 64);
    if (i % 2 == 0) {
      // Valid frames with junk inside reach the field decoders.
      junk = WithChecksum(std::string("R\x01", 2) + junk);
    }
    auto decoded = DecodeRecord(junk);
    if (!decoded.has_value()) {
      EXPECT_EQ(decoded.error().code(), StatusCode::kCorruption);
    }
    (void)DecodeAuditEvent(junk);
    (void)DecodeCommand(junk);
    (void)DecodeRecordStatus(WithChecksum(std::string("S\x01", 2) + junk), CommandId(1));
  }
}

}  // namespace
}  // namespace cmdq
