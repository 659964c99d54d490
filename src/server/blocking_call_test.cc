#include "server/blocking_call.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "cmdq/command.h"
#include "cmdq/command_id.h"
#include "cmdq/status.h"

namespace cmdq::server {
namespace {

// Built outside the coroutine: GCC 12 mishandles lambdas with init-captures made inside
// one.
auto MakeWork(std::vector<Command> commands) {
  return [c = std::move(commands)]() mutable {
    std::vector<Result<CommandId>> out;
    out.push_back(CommandId(7));
    out.push_back(Error(Status::InvalidArgument("type", "a long message about the type")));
    out.push_back(CommandId(c.size()));
    return out;
  };
}

TEST(RunBlocking, BringsAVectorOfResultsBack) {
  asio::io_context io;
  asio::thread_pool pool(2);
  std::vector<Result<CommandId>> got;
  // The io_context has no work of its own while the call runs on the pool.
  auto guard = asio::make_work_guard(io);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::vector<Command> commands(3);
        got = co_await RunBlocking(pool, MakeWork(std::move(commands)));
        guard.reset();
      },
      asio::detached);
  io.run();
  pool.join();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(*got[0], CommandId(7));
  EXPECT_EQ(got[1].error().message(), "a long message about the type");
  EXPECT_EQ(*got[2], CommandId(3));
}

}  // namespace
}  // namespace cmdq::server
namespace cmdq::server {
namespace {
asio::awaitable<std::vector<std::string>> Plain() {
  std::vector<std::string> v{"a long string that is not small-string optimised", "b"};
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_return v;
}
TEST(Awaitable, ReturnsAVector) {
  asio::io_context io;
  std::vector<std::string> got;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { got = co_await Plain(); }, asio::detached);
  io.run();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "a long string that is not small-string optimised");
}
}  // namespace
}  // namespace cmdq::server
namespace cmdq::server {
namespace {
asio::awaitable<std::vector<Result<CommandId>>> PlainResults() {
  std::vector<Result<CommandId>> v;
  v.push_back(CommandId(7));
  v.push_back(Error(Status::InvalidArgument("type", "a long message about the type")));
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_return v;
}
TEST(Awaitable, ReturnsAVectorOfResults) {
  asio::io_context io;
  std::vector<Result<CommandId>> got;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { got = co_await PlainResults(); }, asio::detached);
  io.run();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(*got[0], CommandId(7));
  EXPECT_EQ(got[1].error().message(), "a long message about the type");
}
}  // namespace
}  // namespace cmdq::server
