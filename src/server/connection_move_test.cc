// Connections moved between io threads by the balancer (IoBalancer) keep being served:
// every request gets its own answer, in order, on the same client connection.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/raw_http.h"
#include "engine/test_util.h"
#include "server/http_server.h"

namespace cmdq::server {
namespace {

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
      testing::RawHttp connection(server.port());
      ASSERT_TRUE(connection.connected());
      for (int i = 0; i < kRequests; ++i) {
        const std::string id = fmt::format("{:016x}", (c + 1) * 100'000 + i);
        const testing::Reply answer = connection.Call("GET", "/v1/commands/" + id);
        ASSERT_EQ(answer.status, 404) << answer.head << answer.body;
        ASSERT_NE(answer.body.find(id), std::string::npos)
            << "the answer of another request: " << answer.body;
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
