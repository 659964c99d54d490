// AsyncSignal: a one-shot wake-up that any thread may fire and one coroutine awaits with
// a timeout, without a thread blocked: how ?wait= and a lease's long-poll sleep until the
// Bus calls back (Bus::Watch, Bus::OnLeasable).
//
// Fire() is thread-safe; Wait() runs on the executor the signal was made with. Callbacks
// handed to the Bus should hold a Weak() pointer, so a callback that comes after the
// waiting request is gone touches nothing.
#pragma once

// clang-format off
#include <utility>  // before any Boost.Asio header: Boost 1.74 needs it (decision 0040)
// clang-format on

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "server/http_types.h"

namespace cmdq::server {

class AsyncSignal : public std::enable_shared_from_this<AsyncSignal> {
 public:
  static std::shared_ptr<AsyncSignal> Make(asio::any_io_executor executor);

  // Wakes the waiter (or the next Wait, at once). Idempotent; any thread.
  void Fire();
  bool fired() const { return fired_.load(std::memory_order_acquire); }
  // Waits until fired or `timeout` passes; true if fired.
  asio::awaitable<bool> Wait(std::chrono::steady_clock::duration timeout);
  // A callback for the Bus that fires this signal while it still exists; false once it
  // is gone (nobody is waiting any more).
  std::function<bool()> FireCallback();

 private:
  explicit AsyncSignal(asio::any_io_executor executor) : timer_(std::move(executor)) {}

  asio::steady_timer timer_;
  std::atomic<bool> fired_{false};
};

}  // namespace cmdq::server
