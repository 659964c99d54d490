// The Client's commands API: submit, get, wait, list, audit, cancel, undo, redrive; and
// the retry loop every call goes through. The worker API is in client_worker.cc.
#include <fmt/format.h>

#include <thread>

#include "client/beast_transport.h"
#include "client/client_impl.h"
#include "protocol/request_writer.h"
#include "protocol/response_reader.h"

namespace cmdq {

using client::HttpResponse;
using std::chrono::milliseconds;

Client::Impl::Impl(ClientOptions opts, client::TargetUrl url,
                   std::unique_ptr<client::HttpTransport> transport_in, Sleep sleep_in)
    : options(std::move(opts)),
      target(std::move(url)),
      transport(std::move(transport_in)),
      retry(options.retry),
      sleep(std::move(sleep_in)) {}

Result<HttpResponse> Client::Impl::Call(std::string_view method, std::string_view route,
                                        std::string body, Repeat repeat, milliseconds waits) {
  client::HttpRequest request{.method = method,
                              .target = target.base_path + std::string(route),
                              .body = std::move(body),
                              .timeout = options.request_timeout + waits};
  for (int tries = 1;; ++tries) {
    const bool last = tries > retry.max_retries();
    client::Exchange exchange = transport->RoundTrip(request);
    std::optional<milliseconds> retry_after;
    if (exchange) {
      const int status = exchange->status;
      if (status >= 200 && status < 300) return std::move(*exchange);
      // 429 and 503 say the server acted on nothing: any request may go again.
      if (last || !client::IsRetryableStatus(status)) {
        return Error(protocol::ParseErrorJson(exchange->body, status));
      }
      if (exchange->retry_after) retry_after = client::ParseRetryAfter(*exchange->retry_after);
    } else {
      const bool may_repeat = repeat == Repeat::kSafe || !exchange.error().may_have_arrived;
      if (last || !may_repeat) return Error(std::move(exchange.error().status));
    }
    sleep(retry.Delay(tries, retry_after));
  }
}

Result<HttpResponse> Client::Impl::CallBatch(std::vector<Command>& commands, std::string_view query,
                                             milliseconds wait) {
  for (Command& c : commands) {
    if (c.idempotency_key.empty()) c.idempotency_key = keys.Next();
  }
  return Call("POST", "/v1/commands" + std::string(query), protocol::SubmitBatchJson(commands),
              Repeat::kSafe, wait);
}

namespace client {

Result<std::unique_ptr<Client>> NewClientWithTransport(ClientOptions options,
                                                       std::unique_ptr<HttpTransport> transport,
                                                       Client::Impl::Sleep sleep) {
  auto target = ParseTargetUrl(options.target);
  if (!target) return Error(target.error());
  return std::make_unique<Client>(std::make_unique<Client::Impl>(
      std::move(options), std::move(*target), std::move(transport), std::move(sleep)));
}

}  // namespace client

namespace {

std::string CommandRoute(CommandId id, std::string_view action = {}) {
  std::string route = "/v1/commands/" + id.ToString();
  if (!action.empty()) route.append("/").append(action);
  return route;
}

std::string WaitQuery(milliseconds wait) { return fmt::format("?wait={}ms", wait.count()); }

Status StatusOf(const Result<HttpResponse>& answer) {
  return answer ? Status::Ok() : answer.error();
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  auto target = client::ParseTargetUrl(options.target);
  if (!target) return Error(target.error());
  std::string authorization = options.token.empty() ? "" : "Bearer " + options.token;
  auto transport = std::make_unique<client::BeastTransport>(*target, std::move(authorization),
                                                            options.connect_timeout);
  return client::NewClientWithTransport(std::move(options), std::move(transport),
                                        [](milliseconds d) { std::this_thread::sleep_for(d); });
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<CommandId> Client::Submit(Command command) {
  if (command.idempotency_key.empty()) command.idempotency_key = impl_->keys.Next();
  auto answer = impl_->Call("POST", "/v1/commands", protocol::SubmitJson(command), Repeat::kSafe);
  if (!answer) return Error(answer.error());
  return protocol::ParseSubmitResultJson(answer->body);
}

Result<Record> Client::SubmitAndWait(Command command, milliseconds wait) {
  if (command.idempotency_key.empty()) command.idempotency_key = impl_->keys.Next();
  auto answer = impl_->Call("POST", "/v1/commands" + WaitQuery(wait), protocol::SubmitJson(command),
                            Repeat::kSafe, wait);
  if (!answer) return Error(answer.error());
  return protocol::ParseRecordJson(answer->body);
}

Result<std::vector<Result<CommandId>>> Client::SubmitBatch(std::vector<Command> commands) {
  auto answer = impl_->CallBatch(commands, "", milliseconds(0));
  if (!answer) return Error(answer.error());
  return client::CheckCount(protocol::ParseBatchResultsJson(answer->body), commands.size());
}

Result<std::vector<Result<Record>>> Client::SubmitBatchAndWait(std::vector<Command> commands,
                                                               milliseconds wait) {
  auto answer = impl_->CallBatch(commands, WaitQuery(wait), wait);
  if (!answer) return Error(answer.error());
  return client::CheckCount(protocol::ParseBatchRecordsJson(answer->body), commands.size());
}

Result<Record> Client::Get(CommandId id) {
  auto answer = impl_->Call("GET", CommandRoute(id), {}, Repeat::kSafe);
  if (!answer) return Error(answer.error());
  return protocol::ParseRecordJson(answer->body);
}

Result<Record> Client::Wait(CommandId id, milliseconds wait) {
  auto answer = impl_->Call("GET", CommandRoute(id) + WaitQuery(wait), {}, Repeat::kSafe, wait);
  if (!answer) return Error(answer.error());
  return protocol::ParseRecordJson(answer->body);
}

Result<ListPage> Client::List(const ListQuery& query) {
  std::string route = "/v1/commands";
  if (std::string q = protocol::ListQueryString(query); !q.empty()) route += "?" + q;
  auto answer = impl_->Call("GET", route, {}, Repeat::kSafe);
  if (!answer) return Error(answer.error());
  return protocol::ParseListPageJson(answer->body);
}

Result<std::vector<AuditEvent>> Client::Audit(CommandId id) {
  auto answer = impl_->Call("GET", CommandRoute(id, "audit"), {}, Repeat::kSafe);
  if (!answer) return Error(answer.error());
  return protocol::ParseAuditJson(answer->body, id);
}

Status Client::Cancel(CommandId id) {
  return StatusOf(impl_->Call("POST", CommandRoute(id, "cancel"), {}, Repeat::kIfNotReceived));
}

Status Client::Undo(CommandId id) {
  return StatusOf(impl_->Call("POST", CommandRoute(id, "undo"), {}, Repeat::kIfNotReceived));
}

Status Client::Redrive(CommandId id) {
  return StatusOf(impl_->Call("POST", CommandRoute(id, "redrive"), {}, Repeat::kIfNotReceived));
}

Result<RawResponse> Client::Send(std::string_view method, std::string_view path_and_query,
                                 std::string body) {
  const Repeat repeat = method == "GET" ? Repeat::kSafe : Repeat::kIfNotReceived;
  auto answer = impl_->Call(method, path_and_query, std::move(body), repeat);
  if (!answer) return Error(answer.error());
  return RawResponse{.status = answer->status, .body = std::move(answer->body)};
}

}  // namespace cmdq
