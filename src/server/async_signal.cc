#include "server/async_signal.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cmdq::server {

std::shared_ptr<AsyncSignal> AsyncSignal::Make(asio::any_io_executor executor) {
  return std::shared_ptr<AsyncSignal>(new AsyncSignal(std::move(executor)));
}

void AsyncSignal::Fire() {
  if (fired_.exchange(true, std::memory_order_acq_rel)) return;
  // The timer belongs to the waiter's executor: cancel it there. A Wait that has not yet
  // started sees fired() and does not sleep; one that has is cancelled by this post,
  // which runs after the waiter suspended (its executor runs one thing at a time).
  asio::post(timer_.get_executor(), [self = shared_from_this()] { self->timer_.cancel(); });
}

asio::awaitable<bool> AsyncSignal::Wait(std::chrono::steady_clock::duration timeout) {
  if (fired()) co_return true;
  timer_.expires_after(timeout);
  boost::system::error_code ignored;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  co_return fired();
}

std::function<bool()> AsyncSignal::FireCallback() {
  return [weak = weak_from_this()] {
    auto self = weak.lock();
    if (self) self->Fire();
    return self != nullptr;
  };
}

}  // namespace cmdq::server
