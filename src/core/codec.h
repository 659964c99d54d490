// Codec: the versioned binary form of Command, Record and AuditEvent, as stored by the
// durable backends (docs/storage.md is the specification).
//
// Each encoding is: a magic byte ('C', 'R', 'A'), a version byte (1), the fields in a
// fixed order (LEB128 varints, zigzag for signed, length-prefixed bytes), and a 4-byte
// little-endian checksum (low 32 bits of XXH3_64 over everything before it).
// Decoders never trust their input: any malformed, truncated or foreign bytes give
// kCorruption naming what is wrong, never a crash or a read past the end.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cmdq/command.h"
#include "cmdq/record.h"
#include "cmdq/status.h"

namespace cmdq {

inline constexpr uint8_t kCodecVersion = 1;
inline constexpr char kCommandMagic = 'C';
inline constexpr char kRecordMagic = 'R';
inline constexpr char kAuditEventMagic = 'A';
inline constexpr char kRecordStatusMagic = 'S';

std::string EncodeCommand(const Command& command);
Result<Command> DecodeCommand(std::string_view bytes);

std::string EncodeRecord(const Record& record);
Result<Record> DecodeRecord(std::string_view bytes);

std::string EncodeAuditEvent(const AuditEvent& event);
Result<AuditEvent> DecodeAuditEvent(std::string_view bytes);

// The mutable part of a Record plus its audit trail so far: what changes after insert.
// The RocksDB store keeps it apart from the command (written once) so that a transition
// rewrites only this small value. Audit events are stored without their id and sequence
// (the key and the position give them); the decoder fills both in.
struct RecordStatus {
  State state = State::kPending;
  uint32_t attempt = 0;
  std::string lease_worker;
  int64_t lease_expires_us = 0;
  std::string result;
  std::string error;
  int64_t next_attempt_us = 0;
  int64_t updated_at_us = 0;
  std::vector<AuditEvent> audit;  // sequence 0, 1, 2...
};

// A record from its command and its status (the status's audit trail is not part of it).
Record RecordOf(Command command, RecordStatus&& status);
// The mutable part of `record`, with `audit` as its trail.
RecordStatus StatusOf(const Record& record, std::vector<AuditEvent> audit = {});

std::string EncodeRecordStatus(const RecordStatus& status);
// `id` is the command the status belongs to: it becomes every audit event's id.
Result<RecordStatus> DecodeRecordStatus(std::string_view bytes, CommandId id);

}  // namespace cmdq
