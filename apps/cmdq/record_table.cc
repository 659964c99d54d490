#include "record_table.h"

#include <fmt/format.h>

#include <algorithm>

#include "protocol/rfc3339.h"

namespace cmdq::app {
namespace {

constexpr size_t kShownBytes = 120;

// Text as it is (cut to kShownBytes) when it is printable, else its size.
std::string Shown(const std::string& bytes) {
  if (bytes.empty()) return "-";
  const bool printable = std::all_of(bytes.begin(), bytes.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 || c == '\n' || c == '\t' || c == '\r';
  });
  if (!printable) return fmt::format("<{} bytes>", bytes.size());
  std::string text = bytes.substr(0, kShownBytes);
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return bytes.size() > kShownBytes ? text + fmt::format("... ({} bytes)", bytes.size()) : text;
}

std::string Time(int64_t unix_us) { return unix_us == 0 ? "-" : protocol::FormatRfc3339(unix_us); }

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

}  // namespace

std::string RecordText(const Record& r) {
  const Command& c = r.command;
  std::string out;
  auto line = [&out](std::string_view name, std::string_view value) {
    out += fmt::format("{:<18}{}\n", fmt::format("{}:", name), value);
  };
  line("id", c.id.ToString());
  line("type", c.type);
  line("key", c.key);
  line("state", StateName(r.state));
  line("attempt", std::to_string(r.attempt));
  line("payload", Shown(c.payload));
  line("result", Shown(r.result));
  line("error", OrDash(r.error));
  if (!c.idempotency_key.empty()) line("idempotency key", c.idempotency_key);
  for (const auto& [name, value] : c.headers) line(fmt::format("header {}", name), value);
  if (!r.lease_worker.empty()) {
    line("worker", fmt::format("{} (lease until {})", r.lease_worker, Time(r.lease_expires_us)));
  }
  if (c.not_before_us != 0) line("not before", Time(c.not_before_us));
  if (r.next_attempt_us != 0) line("next attempt", Time(r.next_attempt_us));
  line("created", Time(c.created_at_us));
  line("updated", Time(r.updated_at_us));
  return out;
}

std::string ListTable(const ListPage& page) {
  std::string out = fmt::format("{:<17} {:<10} {:>7}  {:<20} {:<20} {}\n", "ID", "STATE", "ATTEMPT",
                                "TYPE", "KEY", "UPDATED");
  for (const Record& r : page.records) {
    out += fmt::format("{:<17} {:<10} {:>7}  {:<20} {:<20} {}\n", r.command.id.ToString(),
                       StateName(r.state), r.attempt, r.command.type, r.command.key,
                       Time(r.updated_at_us));
  }
  if (page.next_cursor.valid()) {
    out += fmt::format("(more: --cursor {})\n", page.next_cursor.ToString());
  }
  return out;
}

std::string AuditTable(std::span<const AuditEvent> events) {
  std::string out = fmt::format("{:>3}  {:<27} {:<10} {:<10} {:>7}  {:<12} {}\n", "SEQ", "TIME",
                                "FROM", "TO", "ATTEMPT", "WORKER", "MESSAGE");
  for (const AuditEvent& e : events) {
    out += fmt::format("{:>3}  {:<27} {:<10} {:<10} {:>7}  {:<12} {}\n", e.sequence,
                       Time(e.time_us), e.from == State::kNone ? "-" : StateName(e.from),
                       StateName(e.to), e.attempt, OrDash(e.worker), OrDash(e.message));
  }
  return out;
}

}  // namespace cmdq::app
