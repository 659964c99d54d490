#include "server/command_wait.h"

#include <boost/asio/this_coro.hpp>

#include "server/async_signal.h"

namespace cmdq::server {
namespace {

// Unwatches on every way out of the wait, also when the coroutine is destroyed.
class WatchGuard {
 public:
  WatchGuard(Bus& bus, CommandId id, uint64_t ticket) : bus_(bus), id_(id), ticket_(ticket) {}
  ~WatchGuard() { bus_.Unwatch(id_, ticket_); }
  WatchGuard(const WatchGuard&) = delete;
  WatchGuard& operator=(const WatchGuard&) = delete;

 private:
  Bus& bus_;
  CommandId id_;
  uint64_t ticket_;
};

}  // namespace

asio::awaitable<Result<Record>> WaitUntilTerminal(Bus& bus, CommandId id,
                                                  std::chrono::steady_clock::time_point deadline) {
  auto signal = AsyncSignal::Make(co_await asio::this_coro::executor);
  // Watch before reading the state, so that an end in between is not missed.
  WatchGuard guard(bus, id, bus.Watch(id, signal->FireCallback()));
  Result<Record> record = bus.Get(id);
  if (!record || IsTerminal(record->state)) co_return record;
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= left.zero()) co_return record;
  if (!co_await signal->Wait(left)) co_return record;
  co_return bus.Get(id);
}

}  // namespace cmdq::server
