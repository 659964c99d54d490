// RunBlocking: runs a call that may block (a durable submit waiting for its fsync, a
// Finish...) on the blocking pool and resumes the awaiting coroutine on its own executor
// with the result, so that io threads never block (ServerOptions::blocking_threads).
#pragma once

// clang-format off
#include <utility>  // before any Boost.Asio header: Boost 1.74 needs it (decision 0040)
// clang-format on

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "server/http_types.h"

namespace cmdq::server {

// Not a coroutine itself: it returns Asio's own awaitable for the operation. (Written as
// a coroutine template taking `fn` by value, GCC 12 corrupted the result it returned.)
template <typename Fn>
auto RunBlocking(asio::thread_pool& pool, Fn fn) {
  using R = std::invoke_result_t<Fn&>;
  return asio::async_initiate<decltype(asio::use_awaitable), void(R)>(
      [&pool](auto handler, Fn call) {
        // The awaiting coroutine's executor: where the handler must run.
        auto home = asio::get_associated_executor(handler);
        asio::post(pool, [home, call = std::move(call), handler = std::move(handler)]() mutable {
          R result = call();
          asio::post(home, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      asio::use_awaitable, std::move(fn));
}

}  // namespace cmdq::server
