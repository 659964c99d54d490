// Boost 1.74's asio headers use std::exchange without including <utility> (decision 0040).
#include <utility>
// clang-format off: <utility> must come first.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "client/beast_transport.h"
// clang-format on
#include <fmt/format.h>

#include <optional>

namespace cmdq::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Answers larger than this are refused: a list page of 1,000 records with 1 MiB results
// would not fit, and that is a misuse of paging, not something to buffer.
constexpr uint64_t kMaxAnswerBytes = 256ull << 20;

// A failure on a kept connection that says "the server closed it while we were idle".
bool IsStaleConnection(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

Status NetworkError(std::string_view step, const TargetUrl& target, const error_code& ec) {
  const std::string message =
      fmt::format("{} {}:{}: {}", step, target.host, target.port, ec.message());
  if (ec == beast::error::timeout) return Status::DeadlineExceeded(message);
  return Status::Unavailable(message);
}

}  // namespace

struct BeastTransport::Connection {
  TargetUrl target;
  std::string authorization;
  std::chrono::milliseconds connect_timeout;
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  bool open = false;
  int connects = 0;

  // Runs the io_context until the operation started by `start` completes.
  template <typename Start>
  error_code Run(Start&& start) {
    error_code result;
    start([&result](error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
  }

  void Close() {
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    buffer.clear();
    open = false;
  }

  std::optional<TransportError> Connect() {
    tcp::resolver resolver(io);
    tcp::resolver::results_type endpoints;
    error_code ec = Run([&](auto handler) {
      resolver.async_resolve(target.host, target.port,
                             [&, handler](error_code e, tcp::resolver::results_type r) {
                               endpoints = std::move(r);
                               handler(e);
                             });
    });
    if (ec) return TransportError{NetworkError("resolve", target, ec), false};
    stream.expires_after(connect_timeout);
    ec = Run([&](auto handler) { stream.async_connect(endpoints, handler); });
    if (ec) {
      stream.close();
      return TransportError{NetworkError("connect to", target, ec), false};
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    open = true;
    ++connects;
    return std::nullopt;
  }

  // The body is sent from the caller's string, not copied (a submit batch is ~350 KB).
  using Request = http::request<http::span_body<const char>>;

  Request Build(const HttpRequest& r) const {
    Request request(http::string_to_verb(beast::string_view(r.method.data(), r.method.size())),
                    r.target, 11);
    request.set(http::field::host, target.host_header);
    request.set(http::field::user_agent, "cmdq-client");
    if (!authorization.empty()) request.set(http::field::authorization, authorization);
    if (!r.body.empty()) request.set(http::field::content_type, "application/json");
    request.body() = beast::span<const char>(r.body.data(), r.body.size());
    request.keep_alive(true);
    request.prepare_payload();
    return request;
  }

  // One exchange on the open connection: the write and the read in one run of the
  // io_context. `stale` is set when it failed the way a connection the server closed
  // while idle fails (nothing of an answer was read).
  Exchange Once(const Request& request, std::chrono::milliseconds timeout, bool& stale) {
    stale = false;
    stream.expires_after(timeout);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxAnswerBytes);
    bool wrote = false;
    error_code ec = Run([&](auto handler) {
      http::async_write(stream, request, [&, handler](error_code e, size_t) mutable {
        wrote = !e;
        if (e) return handler(e);
        http::async_read(stream, buffer, parser, handler);
      });
    });
    if (wrote) {
      if (!ec) {
        http::response<http::string_body> answer = parser.release();
        HttpResponse response{.status = static_cast<int>(answer.result_int()),
                              .body = std::move(answer.body())};
        if (auto it = answer.find(http::field::retry_after); it != answer.end()) {
          response.retry_after = std::string(it->value());
        }
        if (!answer.keep_alive()) Close();
        return response;
      }
      stale = IsStaleConnection(ec) && !parser.got_some();
    } else {
      stale = IsStaleConnection(ec);
    }
    Close();
    return std::unexpected(TransportError{NetworkError("request to", target, ec), true});
  }
};

BeastTransport::BeastTransport(TargetUrl target, std::string authorization,
                               std::chrono::milliseconds connect_timeout)
    : connection_(std::make_unique<Connection>()) {
  connection_->target = std::move(target);
  connection_->authorization = std::move(authorization);
  connection_->connect_timeout = connect_timeout;
}

BeastTransport::~BeastTransport() {
  if (connection_->open) connection_->Close();
}

int BeastTransport::connects() const { return connection_->connects; }

Exchange BeastTransport::RoundTrip(const HttpRequest& r) {
  Connection& c = *connection_;
  const auto request = c.Build(r);
  const bool reused = c.open;
  if (!c.open) {
    if (auto error = c.Connect()) return std::unexpected(std::move(*error));
  }
  bool stale = false;
  Exchange exchange = c.Once(request, r.timeout, stale);
  if (exchange || !(reused && stale)) return exchange;
  // The kept connection was closed by the server while idle: the request never reached
  // a live connection's handler, so send it once more on a fresh one.
  if (auto error = c.Connect()) return std::unexpected(std::move(*error));
  return c.Once(request, r.timeout, stale);
}

}  // namespace cmdq::client
