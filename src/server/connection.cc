#include "server/connection.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "server/responses.h"

namespace cmdq::server {
namespace {

using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 64 << 10;
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

// The answer to a request Beast could not read, by what went wrong.
HttpResponse ReadErrorResponse(const error_code& error, bool timed_out) {
  if (timed_out) {
    return ErrorResponse(http::status::request_timeout,
                         Status(StatusCode::kDeadlineExceeded,
                                "the request did not arrive within the server's request timeout"));
  }
  if (error == http::error::body_limit) {
    return ErrorResponse(http::status::payload_too_large,
                         Status(StatusCode::kResourceExhausted,
                                "the body is larger than the server's limit", "body"));
  }
  if (error == http::error::header_limit) {
    return ErrorResponse(http::status::request_header_fields_too_large,
                         Status::InvalidArgument("headers", "the request's headers are too large"));
  }
  return ErrorResponse(
      http::status::bad_request,
      Status::InvalidArgument("request", "malformed HTTP request: " + error.message()));
}

bool ClientWentAway(const error_code& error) {
  return error == http::error::end_of_stream || error == asio::error::eof ||
         error == asio::error::connection_reset || error == asio::error::broken_pipe;
}

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, const ServerOptions& options,
                       const Dispatcher& dispatch, std::function<void()> on_close, Mover mover)
    : socket_(std::move(socket)),
      watchdog_(socket_.get_executor()),
      check_every_(std::max(
          std::chrono::milliseconds(1),
          std::min({options.idle_timeout, options.request_timeout, options.write_timeout}) / 2)),
      options_(options),
      dispatch_(dispatch),
      on_close_(std::move(on_close)),
      mover_(std::move(mover)) {}

Connection::~Connection() {
  if (on_close_) on_close_();
}

void Connection::Start() {
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->Serve(); }, asio::detached);
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->Watchdog(); }, asio::detached);
}

void Connection::Refuse(HttpResponse response) {
  refusal_ = std::move(response);
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->WriteFinal(self->refusal_); }, asio::detached);
}

// Never earlier than the watchdog's next wake-up (at most check_every_ away, less than
// any timeout), so the timer itself needs no change.
void Connection::Arm(std::chrono::milliseconds timeout) {
  deadline_ = SteadyClock::now() + timeout;
  timed_out_ = false;  // a cancel that found nothing pending must not taint the next read
}

void Connection::Close() {
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  watchdog_.cancel();
}

asio::awaitable<void> Connection::Watchdog() {
  while (socket_.is_open()) {
    const auto now = SteadyClock::now();
    if (deadline_ <= now) {
      timed_out_ = true;
      error_code ignored;
      socket_.cancel(ignored);
      deadline_ = SteadyClock::time_point::max();
    }
    // Until the deadline, or a check well before any deadline armed meanwhile could pass.
    watchdog_.expires_at(deadline_ - now < check_every_ ? deadline_ : now + check_every_);
    error_code ignored;
    co_await watchdog_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

asio::awaitable<bool> Connection::Write(HttpResponse& response) {
  response.prepare_payload();
  Arm(options_.write_timeout);
  error_code error;
  co_await http::async_write(socket_, response, asio::redirect_error(asio::use_awaitable, error));
  co_return !error;
}

asio::awaitable<void> Connection::WriteFinal(HttpResponse& response) {
  response.keep_alive(false);
  co_await Write(response);
  Close();
}

asio::awaitable<void> Connection::Serve() {
  boost::beast::flat_buffer buffer;
  for (;;) {
    error_code error;
    if (buffer.size() == 0 && mover_ && mover_(socket_)) {
      // Served from another thread now: this object goes without counting a close. (A
      // move that failed left the socket here: closing it ends the watchdog too.)
      on_close_ = nullptr;
      error_code ignored;
      socket_.close(ignored);
      watchdog_.cancel();
      co_return;
    }
    if (buffer.size() == 0) {  // idle between requests: wait for the next one's first byte
      Arm(options_.idle_timeout);
      const size_t n = co_await socket_.async_read_some(
          buffer.prepare(kReadChunk), asio::redirect_error(asio::use_awaitable, error));
      if (error) break;  // closed, reset or idle too long: no answer is owed
      buffer.commit(n);
    }
    Arm(options_.request_timeout);
    http::request_parser<http::string_body> parser;
    parser.header_limit(options_.max_header_bytes);
    parser.body_limit(options_.max_body_bytes);
    co_await http::async_read_header(socket_, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, error));
    if (!error && !parser.is_done()) {
      const auto& head = parser.get();
      // Refuse an announced oversized body before the client sends it.
      if (head.has_content_length() &&
          parser.content_length().value_or(0) > options_.max_body_bytes) {
        error = http::error::body_limit;
      } else if (head[http::field::expect] == "100-continue") {
        co_await asio::async_write(socket_, asio::buffer(kContinue, sizeof(kContinue) - 1),
                                   asio::redirect_error(asio::use_awaitable, error));
      }
      if (!error) {
        co_await http::async_read(socket_, buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, error));
      }
    }
    if (error) {
      if (!ClientWentAway(error) || timed_out_) {
        HttpResponse answer = ReadErrorResponse(error, timed_out_);
        co_await WriteFinal(answer);
      }
      break;
    }
    deadline_ = SteadyClock::time_point::max();  // the route may wait long
    HttpRequest request = parser.release();
    HttpResponse response = co_await dispatch_(request);
    response.keep_alive(request.keep_alive());
    if (!co_await Write(response) || !response.keep_alive()) break;
  }
  Close();
}

}  // namespace cmdq::server
