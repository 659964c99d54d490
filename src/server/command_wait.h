// Waiting for commands to end without a thread: Bus::Watch wakes an AsyncSignal, the
// request's coroutine sleeps on it (?wait= of submit and get; docs/api.md).
#pragma once

#include <chrono>

#include "cmdq/bus.h"
#include "cmdq/record.h"
#include "server/http_types.h"

namespace cmdq::server {

// The command's record once it is terminal, or as it is at `deadline`. Errors of
// Bus::Get (kNotFound...) come back as they are.
asio::awaitable<Result<Record>> WaitUntilTerminal(Bus& bus, CommandId id,
                                                  std::chrono::steady_clock::time_point deadline);

}  // namespace cmdq::server
