// The Client's worker API: lease, heartbeat, complete, fail, and outcomes in batches
// (docs/api.md, "Workers").
#include <fmt/format.h>

#include "client/client_impl.h"
#include "protocol/request_writer.h"
#include "protocol/response_reader.h"
#include "protocol/worker_parser.h"

namespace cmdq {

using std::chrono::milliseconds;

namespace {

protocol::LeaseRequest ToRequest(const LeaseOptions& options) {
  return {.types = options.types,
          .max = options.max,
          .wait_ms = static_cast<uint32_t>(options.wait.count()),
          .worker = options.worker,
          .lease_ms = static_cast<uint32_t>(options.lease.count())};
}

std::vector<LeasedCommand> ToLeased(std::vector<protocol::Lease>& leases) {
  std::vector<LeasedCommand> leased;
  leased.reserve(leases.size());
  for (protocol::Lease& lease : leases) {
    leased.push_back(LeasedCommand{.lease = std::move(lease.token),
                                   .record = std::move(lease.record),
                                   .deadline_us = lease.deadline_us});
  }
  return leased;
}

}  // namespace

Result<std::vector<LeasedCommand>> Client::Lease(const LeaseOptions& options) {
  // A lease request that reached the server may have leased commands; sent again, those
  // would sit leased to nobody until they expire. So: only when it cannot have arrived.
  auto answer = impl_->Call("POST", "/v1/leases", protocol::LeaseRequestJson(ToRequest(options)),
                            Repeat::kIfNotReceived, options.wait);
  if (!answer) return Error(answer.error());
  auto leases = protocol::ParseLeasesJson(answer->body);
  if (!leases) return Error(leases.error());
  return ToLeased(*leases);
}

Status Client::Heartbeat(std::string_view lease, milliseconds extend) {
  const std::string route = fmt::format("/v1/leases/{}/heartbeat", lease);
  auto answer = impl_->Call(
      "POST", route, protocol::HeartbeatJson(static_cast<uint32_t>(extend.count())), Repeat::kSafe);
  return answer ? Status::Ok() : answer.error();
}

Status Client::Report(const WorkerOutcome& outcome) {
  // Safe to repeat: the lease token makes a second report of the same outcome a no-op
  // or a kNotFound for a lease already finished.
  const std::string route = fmt::format("/v1/commands/{}/{}", outcome.id.ToString(),
                                        outcome.succeeded ? "complete" : "fail");
  auto answer = impl_->Call("POST", route, protocol::OutcomeJson(outcome), Repeat::kSafe);
  return answer ? Status::Ok() : answer.error();
}

Status Client::Complete(const LeasedCommand& leased, std::string result) {
  return Report(WorkerOutcome{.id = leased.record.command.id,
                              .lease = leased.lease,
                              .succeeded = true,
                              .result = std::move(result)});
}

Status Client::Fail(const LeasedCommand& leased, std::string error, bool retryable) {
  return Report(WorkerOutcome{.id = leased.record.command.id,
                              .lease = leased.lease,
                              .succeeded = false,
                              .error = std::move(error),
                              .retryable = retryable});
}

Result<std::vector<Status>> Client::ReportBatch(std::span<const WorkerOutcome> outcomes) {
  auto answer =
      impl_->Call("POST", "/v1/completions", protocol::OutcomesJson(outcomes), Repeat::kSafe);
  if (!answer) return Error(answer.error());
  return client::CheckCount(protocol::ParseOutcomeResultsJson(answer->body), outcomes.size());
}

Result<ReportedAndLeased> Client::ReportBatchAndLease(std::span<const WorkerOutcome> outcomes,
                                                      const LeaseOptions& next) {
  auto answer = impl_->Call("POST", "/v1/completions",
                            protocol::OutcomesAndLeaseJson(outcomes, ToRequest(next)),
                            Repeat::kIfNotReceived, next.wait);
  if (!answer) return Error(answer.error());
  auto parsed = protocol::ParseCompletionsAndLeasesJson(answer->body);
  if (!parsed) return Error(parsed.error());
  auto results =
      client::CheckCount(Result<std::vector<Status>>(std::move(parsed->results)), outcomes.size());
  if (!results) return Error(results.error());
  return ReportedAndLeased{.outcomes = std::move(*results),
                           .leased = ToLeased(parsed->leases),
                           .lease = std::move(parsed->lease_error)};
}

}  // namespace cmdq
