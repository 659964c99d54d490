// Quickstart: the C++ API of cmdq in one file.
//
// Registers a handler, starts an async bus on the in-memory store with an LRU result
// cache, submits commands for one user, waits for one, reads it back, lists the user's
// commands, prints an audit trail and stops. Exits 0 when all of that worked.
#include <chrono>
#include <cstdio>
#include <string>

#include "cmdq/bus.h"

namespace {

// A handler returns its result, or an error (retried unless kInvalidArgument or
// kFailedPrecondition). It runs on a worker thread, so it must be thread-safe.
cmdq::Result<std::string> Greet(const cmdq::HandlerContext& ctx) {
  if (ctx.command().payload.empty()) {
    return cmdq::Error(cmdq::Status::InvalidArgument("payload", "a name is required"));
  }
  return "hello, " + ctx.command().payload;
}

int Fail(const char* what, const cmdq::Status& status) {
  std::fprintf(stderr, "quickstart: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

}  // namespace

int main() {
  // 1. Choose the mode and the backends. Async: Submit returns at once; workers run.
  cmdq::BusOptions options;
  options.mode = cmdq::Mode::kAsync;
  options.workers = 2;
  cmdq::BusDeps deps;
  deps.store = cmdq::NewMemoryStore();
  deps.cache = cmdq::NewLruCache(10'000);
  auto bus = cmdq::Bus::Create(std::move(options), std::move(deps));
  if (!bus) return Fail("create", bus.error());

  // 2. Register handlers (before Start), each with its retry and ordering policy.
  cmdq::TypeOptions policy;
  policy.max_attempts = 5;
  policy.backoff_initial = std::chrono::milliseconds(10);
  if (auto s = (*bus)->Register("greet", {.execute = Greet, .undo = {}}, policy); !s.ok()) {
    return Fail("register", s);
  }
  if (auto s = (*bus)->Start(); !s.ok()) return Fail("start", s);

  // 3. Submit: commands of one key run one at a time, in submit order.
  cmdq::CommandId last;
  for (const char* name : {"Ada", "Grace", "Barbara"}) {
    auto id = (*bus)->Submit({.type = "greet", .key = "user-42", .payload = name});
    if (!id) return Fail("submit", id.error());
    last = *id;
  }

  // 4. Wait for the last one, then read it back (served from the result cache).
  auto done = (*bus)->Wait(last, std::chrono::seconds(5));
  if (!done) return Fail("wait", done.error());
  auto record = (*bus)->Get(last);
  if (!record) return Fail("get", record.error());
  std::printf("%s %s: %s\n", last.ToString().c_str(),
              std::string(cmdq::StateName(record->state)).c_str(), record->result.c_str());

  // 5. List the user's commands, newest first, and the audit trail of one of them.
  cmdq::ListQuery query;
  query.key = "user-42";
  auto page = (*bus)->List(query);
  if (!page) return Fail("list", page.error());
  std::printf("user-42 has %zu commands\n", page->records.size());
  auto audit = (*bus)->Audit(last);
  if (!audit) return Fail("audit", audit.error());
  for (const cmdq::AuditEvent& e : *audit) {
    std::printf("  %s -> %s (attempt %u)\n", std::string(cmdq::StateName(e.from)).c_str(),
                std::string(cmdq::StateName(e.to)).c_str(), e.attempt);
  }

  // 6. Stop: drain what is queued, then join the workers.
  (*bus)->Stop(cmdq::StopMode::kDrain);
  const bool ok = record->state == cmdq::State::kSucceeded && page->records.size() == 3;
  return ok ? 0 : 1;
}
