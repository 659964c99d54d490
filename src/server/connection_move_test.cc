// Connections moved between io threads by the balancer (IoBalancer) keep being served:
// every request gets its own answer, in order, on the same client connection.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "engine/test_util.h"
#include "server/http_server.h"

namespace cmdq::server {
namespace {

// A keep-alive HTTP/1.1 connection, one request at a time.
class KeepAlive {
 public:
  explicit KeepAlive(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~KeepAlive() { ::close(fd_); }
  KeepAlive(const KeepAlive&) = delete;
  KeepAlive& operator=(const KeepAlive&) = delete;
  bool ok() const { return ok_; }

  // The whole answer (head and body); what arrived so far if the server closed.
  std::string Get(const std::string& target) {
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: cmdq\r\n\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      return "send failed";
    }
    std::string answer;
    char chunk[4096];
    for (;;) {
      const size_t head_end = answer.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const size_t at = answer.find("Content-Length: ");
        const size_t length = at == std::string::npos ? 0 : std::stoul(answer.substr(at + 16));
        if (answer.size() >= head_end + 4 + length) return answer;
      }
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return answer + "[closed]";
      answer.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  bool ok_ = false;
};

TEST(ConnectionMoves, EveryRequestIsAnsweredWhileConnectionsMoveBetweenIoThreads) {
  BusOptions bus_options;
  bus_options.mode = Mode::kAsync;
  auto bus = testing::MakeBus(bus_options);
  ASSERT_TRUE(bus->Start().ok());
  ServerOptions options;
  options.port = 0;
  options.io_threads = 2;
  HttpServer server(*bus, options);
  ASSERT_TRUE(server.Start().ok());
  IoBalancer* balancer = server.balancer();
  ASSERT_NE(balancer, nullptr);

  constexpr int kClients = 4;
  constexpr int kRequests = 2000;
  std::atomic<int> answered{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      // One socket for all its requests: a connection dropped in a move fails the test
      // (the client library would reconnect and hide it).
      KeepAlive connection(server.port());
      ASSERT_TRUE(connection.ok());
      for (int i = 0; i < kRequests; ++i) {
        const std::string id = fmt::format("{:016x}", (c + 1) * 100'000 + i);
        const std::string answer = connection.Get("/v1/commands/" + id);
        ASSERT_NE(answer.find("HTTP/1.1 404"), std::string::npos) << answer;
        ASSERT_NE(answer.find(id), std::string::npos)
            << "the answer of another request: " << answer;
        answered.fetch_add(1);
      }
    });
  }
  // The thread holding more connections reads busy and the other idle, over and over:
  // connections keep moving both ways (the server's own samples, all idle, pack them
  // onto thread 0 besides).
  std::thread mover([&] {
    while (!done.load()) {
      const uint32_t busy = balancer->connections(0) >= balancer->connections(1) ? 0 : 1;
      balancer->Report(1 - busy, 0.0);
      balancer->Report(busy, 0.95);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  for (auto& t : clients) t.join();
  done.store(true);
  mover.join();

  EXPECT_EQ(answered.load(), kClients * kRequests);
  EXPECT_GT(balancer->moves(), 0u);
  // The clients are gone: once the server saw them close, every connection, moved or
  // not, was counted out once.
  for (int i = 0; i < 500 && server.open_connections() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server.open_connections(), 0u);
  EXPECT_EQ(balancer->connections(0) + balancer->connections(1), 0u)
      << balancer->moves() << " moves";
  server.Stop();
}

}  // namespace
}  // namespace cmdq::server
