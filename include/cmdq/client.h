// Client: the C++ client of a cmdq server's HTTP API v1 (docs/api.md), and the worker
// API for handlers that run outside the server (remote workers).
//
// One Client holds one HTTP/1.1 connection and reuses it (keep-alive); it reconnects
// when the server has closed it. Every call blocks until the answer, a timeout or the
// last retry. Errors are values: a failed call returns the server's error as a Status
// (code, message and field from the JSON error body), kUnavailable when the server cannot
// be reached, kDeadlineExceeded when a timeout ran out, kCorruption when the answer does
// not parse.
//
// Retries: a call that meets 429 (honouring Retry-After), 503 or a connection error is
// sent again after an exponential backoff with jitter, up to RetryOptions::max_retries
// times. A retried submit never creates two commands: every submitted command that has no
// idempotency key gets a fresh random one ("cmdq-" + 32 hex digits) before the first try,
// so the server answers a repeat with the first command. Set your own key to make repeats
// across processes or restarts safe too (the server keeps keys for its dedup window).
// Lease, cancel, undo and redrive are sent again only when the server cannot have acted
// on them (429, 503, or no connection was made).
//
// Thread-compatibility: a Client is not thread-safe (it owns one connection). Use one
// Client per thread, or a pool of Clients that threads borrow from.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cmdq/command.h"
#include "cmdq/command_id.h"
#include "cmdq/record.h"
#include "cmdq/status.h"
#include "cmdq/store.h"
#include "cmdq/worker_outcome.h"

namespace cmdq {

struct RetryOptions {
  // Retries after the first try; 0 = never retry. Each retry waits longer, so 6 retries
  // with the defaults below span about 3 s of an outage.
  int max_retries = 6;
  // The first retry waits about this long; each next one twice as long...
  std::chrono::milliseconds initial_backoff{50};
  // ...up to this. A Retry-After from the server (seconds) replaces the backoff, capped
  // at max_retry_after so that a misconfigured server cannot park a client for hours.
  std::chrono::milliseconds max_backoff{2'000};
  std::chrono::milliseconds max_retry_after{30'000};
  // Each wait is scaled by a random factor in [1 - jitter, 1 + jitter], so that clients
  // that failed together do not retry together. 0..1.
  double jitter = 0.2;
};

struct ClientOptions {
  // Where the server listens: "http://host:port" with an optional path prefix
  // ("http://gw:80/cmdq"). https is not supported (put a TLS proxy in front).
  std::string target = "http://127.0.0.1:7700";
  // Sent as "Authorization: Bearer <token>" when not empty (docs/api.md, access control).
  std::string token;
  // Resolving the host and connecting, per try.
  std::chrono::milliseconds connect_timeout{2'000};
  // Sending a request and reading its answer, per try. A call that waits on the server
  // (?wait=, a lease's long-poll) gets its wait added on top.
  std::chrono::milliseconds request_timeout{10'000};
  RetryOptions retry;
};

// A command leased to this worker: run it, then Complete or Fail it before `deadline_us`
// (or Heartbeat to extend the lease).
struct LeasedCommand {
  std::string lease;        // the lease's token: Heartbeat, Complete, Fail
  Record record;            // the command (id, type, key, payload, headers, timeout_ms)
                            // and this run's attempt number
  int64_t deadline_us = 0;  // unix µs: the command runs again elsewhere after this
};

struct LeaseOptions {
  std::vector<std::string> types;      // the types this worker runs; at least one
  uint32_t max = 1;                    // most commands to take, 1..1000
  std::chrono::milliseconds wait{0};   // long-poll: wait this long when none is ready
  std::chrono::milliseconds lease{0};  // how long each lease lasts; 0 = the server's
  std::string worker;                  // this worker's name (audit trail, metrics)
};

// What Client::ReportBatchAndLease got back.
struct ReportedAndLeased {
  std::vector<Status> outcomes;       // one per outcome reported, in order
  std::vector<LeasedCommand> leased;  // the next commands; empty when none came in time
  Status lease;                       // not OK: why nothing was leased (the outcomes stand)
};

// An HTTP answer as the server sent it: for callers that print the server's JSON.
struct RawResponse {
  int status = 0;
  std::string body;
};

class Client {
 public:
  // kInvalidArgument (field "target") for a target that is not http://host[:port][/path].
  // Does not connect: the first call does.
  static Result<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Submits one command; its id. Sets an idempotency key when it has none (see above).
  Result<CommandId> Submit(Command command);
  // Submits and waits up to `wait` for the command to end (?wait=): the record as it is
  // when it became terminal or when the wait ran out (then its state is not terminal).
  Result<Record> SubmitAndWait(Command command, std::chrono::milliseconds wait);
  // Submits 1..1000 commands in one request. The outer error is the request's (nothing
  // was stored); otherwise each command has its own Result, in order.
  Result<std::vector<Result<CommandId>>> SubmitBatch(std::vector<Command> commands);
  // A batch that waits up to `wait` for its commands to end (?wait=): each command's
  // record as it is then, or its own error, in order.
  Result<std::vector<Result<Record>>> SubmitBatchAndWait(std::vector<Command> commands,
                                                         std::chrono::milliseconds wait);

  Result<Record> Get(CommandId id);
  // The record once it is terminal, or as it is after `wait` (?wait= on GET).
  Result<Record> Wait(CommandId id, std::chrono::milliseconds wait);
  // One page, newest first; pass page.next_cursor as query.before for the next one.
  Result<ListPage> List(const ListQuery& query);
  Result<std::vector<AuditEvent>> Audit(CommandId id);
  // kFailedPrecondition when the command's state forbids it (docs/api.md).
  Status Cancel(CommandId id);
  Status Undo(CommandId id);
  Status Redrive(CommandId id);

  // Worker API (remote workers). Leases up to options.max ready commands; an empty
  // vector when none came within options.wait.
  Result<std::vector<LeasedCommand>> Lease(const LeaseOptions& options);
  // Extends a lease by `extend` from now (0 = its own duration). kNotFound when the lease
  // is unknown or expired (the command may run elsewhere: stop working on it).
  Status Heartbeat(std::string_view lease, std::chrono::milliseconds extend);
  // Reports one outcome (outcome.succeeded picks complete or fail).
  Status Report(const WorkerOutcome& outcome);
  Status Complete(const LeasedCommand& leased, std::string result);
  Status Fail(const LeasedCommand& leased, std::string error, bool retryable);
  // Reports 1..1000 outcomes in one request (POST /v1/completions): the request's error,
  // or one Status per outcome, in order.
  Result<std::vector<Status>> ReportBatch(std::span<const WorkerOutcome> outcomes);
  // Reports 0..1000 outcomes, then leases up to next.max more, in one request: a batch
  // worker's loop in one round trip per batch (POST /v1/completions with a lease). The
  // lease comes after the outcomes are stored, so a key's next command can be among it.
  // Sent again only when the request cannot have arrived, as Lease.
  Result<ReportedAndLeased> ReportBatchAndLease(std::span<const WorkerOutcome> outcomes,
                                                const LeaseOptions& next);

  // Any request, for callers that want the server's own JSON (the CLI's --json): the
  // answer when its status is 2xx, else the error of its body. Retried like a GET when
  // `method` is GET, else only when the server cannot have acted on it.
  Result<RawResponse> Send(std::string_view method, std::string_view path_and_query,
                           std::string body = {});

  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// "2s", "500ms", "1m": how ?wait= and the CLI spell a duration (an integer and a unit:
// ms, s or m). kInvalidArgument naming `field` otherwise.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text, std::string_view field);

}  // namespace cmdq
