// The real transport against a small Beast server in this process: keep-alive reuse,
// reconnecting after the server closed a kept connection, timeouts, and a submit that
// meets 503 and 429 and still makes one command.
#include <utility>
// clang-format off: <utility> before Asio (decision 0040).
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "client/beast_transport.h"
// clang-format on
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "client/client_impl.h"

namespace cmdq::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

struct Reply {
  int status = 200;
  std::string body = "{}";
  bool close = false;     // close the connection after answering
  milliseconds delay{0};  // before answering
  std::string retry_after;
};

// Serves one connection at a time; `handler` sees every request's target and body.
class FakeServer {
 public:
  using Handler = std::function<Reply(const http::request<http::string_body>&)>;
  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);  // wakes accept()
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  int accepted() const { return accepted_; }

 private:
  void Serve() {
    while (!stopping_) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      ++accepted_;
      beast::flat_buffer buffer;
      for (;;) {
        http::request<http::string_body> request;
        http::read(socket, buffer, request, ec);
        if (ec) break;
        Reply reply = handler_(request);
        std::this_thread::sleep_for(reply.delay);
        http::response<http::string_body> response(static_cast<http::status>(reply.status), 11);
        response.body() = reply.body;
        if (!reply.retry_after.empty()) response.set(http::field::retry_after, reply.retry_after);
        response.keep_alive(true);  // even when closing: the client must cope
        response.prepare_payload();
        http::write(socket, response, ec);
        if (ec || reply.close) break;
      }
      socket.close(ec);
    }
  }

  Handler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

BeastTransport MakeTransport(const FakeServer& server) {
  return BeastTransport(*ParseTargetUrl(server.url()), "Bearer t", milliseconds(1000));
}

TEST(BeastTransport, KeepsOneConnectionForManyRequests) {
  std::string auth;
  FakeServer server([&](const auto& request) {
    auth = std::string(request[http::field::authorization]);
    return Reply{.body = std::string(request.target())};
  });
  BeastTransport transport = MakeTransport(server);
  for (int i = 0; i < 3; ++i) {
    Exchange e = transport.RoundTrip({.method = "GET", .target = "/x" + std::to_string(i)});
    ASSERT_TRUE(e) << e.error().status.ToString();
    EXPECT_EQ(e->body, "/x" + std::to_string(i));
  }
  EXPECT_EQ(transport.connects(), 1);
  EXPECT_EQ(auth, "Bearer t");
}

// Bodies far larger than a socket buffer go out and come back whole: the transport's
// reads and writes wait for the socket and continue where they stopped.
TEST(BeastTransport, LargeBodiesCrossInManyReadsAndWrites) {
  FakeServer server([](const http::request<http::string_body>& r) {
    return Reply{.body = r.body() + r.body()};  // twice what came
  });
  BeastTransport transport = MakeTransport(server);
  std::string body(900 << 10, 'x');  // under the fake server's 1 MB request limit
  for (size_t i = 0; i < body.size(); i += 4093) body[i] = static_cast<char>('a' + i % 26);
  for (int round = 0; round < 3; ++round) {
    auto exchange = transport.RoundTrip({.method = "POST", .target = "/echo", .body = body});
    ASSERT_TRUE(exchange.has_value()) << exchange.error().status.ToString();
    EXPECT_EQ(exchange->status, 200);
    EXPECT_EQ(exchange->body, body + body);
  }
  EXPECT_EQ(transport.connects(), 1);
}

TEST(BeastTransport, ReconnectsWhenTheServerClosedAKeptConnection) {
  FakeServer server([](const auto&) { return Reply{.close = true}; });
  BeastTransport transport = MakeTransport(server);
  for (int i = 0; i < 3; ++i) {
    Exchange e = transport.RoundTrip({.method = "POST", .target = "/y", .body = "{}"});
    ASSERT_TRUE(e) << e.error().status.ToString();
  }
  EXPECT_EQ(server.accepted(), 3);
}

TEST(BeastTransport, NoServerIsUnavailableAndNeverArrived) {
  asio::io_context io;
  tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = probe.local_endpoint().port();
  probe.close();  // a port nobody listens on
  BeastTransport transport(*ParseTargetUrl("http://127.0.0.1:" + std::to_string(port)), "",
                           milliseconds(500));
  Exchange e = transport.RoundTrip({.method = "GET", .target = "/"});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().status.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(e.error().may_have_arrived);
}

TEST(BeastTransport, ASlowAnswerTimesOut) {
  FakeServer server([](const auto&) { return Reply{.delay = milliseconds(200)}; });
  BeastTransport transport = MakeTransport(server);
  Exchange e = transport.RoundTrip({.method = "GET", .target = "/", .timeout = milliseconds(50)});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().status.code(), StatusCode::kDeadlineExceeded);
}

// The regression the idempotency keys exist for: the server refuses the first tries
// (a full queue, a restart) and the client's retries must not make a second command.
TEST(Client, ARetriedSubmitMakesOneCommandOnARealConnection) {
  std::mutex mu;
  std::set<std::string> commands;  // the keys the "server" stored
  int tries = 0;
  FakeServer server([&](const http::request<http::string_body>& request) {
    std::lock_guard lock(mu);
    ++tries;
    if (tries == 1)
      return Reply{.status = 503,
                   .body = R"({"error":{"code":"UNAVAILABLE","message":"starting"}})"};
    if (tries == 2) return Reply{.status = 429, .body = "", .retry_after = "0"};
    const std::string& body = request.body();
    const size_t at = body.find("\"idempotency_key\":\"");
    if (at == std::string::npos) return Reply{.status = 400};
    commands.insert(body.substr(at, body.find('"', at + 19) - at));
    // Stored, but the answer is lost: the client sees the connection close.
    if (tries == 3)
      return Reply{.status = 200, .body = "", .close = true, .delay = milliseconds(150)};
    return Reply{.body = R"({"id":"00000000000000aa"})"};
  });
  ClientOptions options;
  options.target = server.url();
  options.request_timeout = milliseconds(100);
  options.retry.initial_backoff = milliseconds(1);
  auto client = Client::Create(options);
  ASSERT_TRUE(client);
  auto id = (*client)->Submit(Command{.type = "t", .key = "k"});
  ASSERT_TRUE(id) << id.error().ToString();
  EXPECT_EQ(*id, CommandId(0xaa));
  EXPECT_EQ(tries, 4);
  EXPECT_EQ(commands.size(), 1u);  // one key for all four tries: the server dedups them
}

}  // namespace
}  // namespace cmdq::client
