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
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
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
constexpr size_t kReadChunk = 64 << 10;  // bytes asked of the socket per read

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

// The connection's socket as Beast's synchronous read and write see it, with a deadline:
// a step that would block waits in poll() for what is left of it. A round trip is then a
// few send/recv calls, not the io_context's reactor, timer and executor machinery (which
// cost the load generator a fifth of its CPU per request).
class DeadlineSocket {
 public:
  DeadlineSocket(int fd, std::chrono::steady_clock::time_point deadline)
      : fd_(fd), deadline_(deadline) {}

  template <typename Buffers>
  size_t read_some(const Buffers& buffers, error_code& ec) {
    return Transfer(buffers, POLLIN, ec,
                    [this](msghdr& m) { return ::recvmsg(fd_, &m, MSG_DONTWAIT); });
  }
  template <typename Buffers>
  size_t write_some(const Buffers& buffers, error_code& ec) {
    return Transfer(buffers, POLLOUT, ec,
                    [this](msghdr& m) { return ::sendmsg(fd_, &m, MSG_DONTWAIT | MSG_NOSIGNAL); });
  }
  // The throwing forms the stream concepts ask for (this file uses the error_code ones).
  template <typename Buffers>
  size_t read_some(const Buffers& buffers) {
    return OrThrow([&](error_code& ec) { return read_some(buffers, ec); });
  }
  template <typename Buffers>
  size_t write_some(const Buffers& buffers) {
    return OrThrow([&](error_code& ec) { return write_some(buffers, ec); });
  }

 private:
  template <typename Step>
  static size_t OrThrow(Step step) {
    error_code ec;
    const size_t n = step(ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  template <typename Buffers, typename Call>
  size_t Transfer(const Buffers& buffers, short events, error_code& ec, Call call) {
    std::array<iovec, 16> iov;
    size_t count = 0;
    for (auto it = asio::buffer_sequence_begin(buffers);
         it != asio::buffer_sequence_end(buffers) && count < iov.size(); ++it) {
      asio::const_buffer b(*it);
      if (b.size() == 0) continue;
      iov[count++] = iovec{const_cast<void*>(b.data()), b.size()};
    }
    ec = {};
    if (count == 0) return 0;
    msghdr m{};
    m.msg_iov = iov.data();
    m.msg_iovlen = count;
    for (;;) {
      const ssize_t n = call(m);
      if (n > 0) return static_cast<size_t>(n);
      if (n == 0 && events == POLLIN) {
        ec = asio::error::eof;
        return 0;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        ec = error_code(errno, boost::system::system_category());
        return 0;
      }
      if (!Wait(events, ec)) return 0;
    }
  }

  // Waits until the socket is ready for `events`, or the deadline passes (ec = timeout).
  bool Wait(short events, error_code& ec) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline_ - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ec = beast::error::timeout;
        return false;
      }
      pollfd p{.fd = fd_, .events = events, .revents = 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count() + 1, 1 << 30)));
      if (r > 0) return true;  // ready, or an error the next call reports
      if (r < 0 && errno != EINTR) {
        ec = error_code(errno, boost::system::system_category());
        return false;
      }
    }
  }

  int fd_;
  std::chrono::steady_clock::time_point deadline_;
};

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
    // Beast reads at most the buffer's free capacity at a time (512 bytes while it has
    // none): a 350 KB lease answer took ~400 recvmsg calls, a third of a worker's CPU.
    buffer.reserve(kReadChunk);
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

  // One exchange on the open connection, written and read synchronously within
  // `timeout`. `stale` is set when it failed the way a connection the server closed
  // while idle fails (nothing of an answer was read).
  Exchange Once(const Request& request, std::chrono::milliseconds timeout, bool& stale) {
    stale = false;
    DeadlineSocket socket(stream.socket().native_handle(),
                          std::chrono::steady_clock::now() + timeout);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxAnswerBytes);
    error_code ec;
    http::write(socket, request, ec);
    const bool wrote = !ec;
    if (wrote) http::read(socket, buffer, parser, ec);
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
