#include "builtin_types.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "tiny_json.h"

namespace cmdq::app {

Handler NoopHandler() {
  return {.execute = [](const HandlerContext&) -> Result<std::string> { return std::string(); },
          .undo = {}};
}

Handler EchoHandler() {
  return {.execute = [](const HandlerContext& ctx) -> Result<std::string> {
            return ctx.command().payload;
          },
          .undo = {}};
}

namespace {

// Sleeps `ms`, or less when the stop token fires; false if it was cut short.
bool SleepFor(const HandlerContext& ctx, int64_t ms) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, ctx.stop_token(), std::chrono::milliseconds(ms), [] { return false; });
  return !ctx.stop_token().stop_requested();
}

Result<std::string> RunSleep(const HandlerContext& ctx) {
  const Result<int64_t> ms = JsonIntMember(ctx.command().payload, "ms", 0);
  if (!ms) return Error(ms.error());
  if (!SleepFor(ctx, *ms)) {
    return Error(Status::DeadlineExceeded("cmdq.sleep: stopped before " + std::to_string(*ms) +
                                          " ms had passed"));
  }
  return std::string();
}

Result<std::string> RunFail(const HandlerContext& ctx) {
  const Result<int64_t> times = JsonIntMember(ctx.command().payload, "times", 0);
  if (!times) return Error(times.error());
  if (static_cast<int64_t>(ctx.attempt()) <= *times) {
    return Error(Status::Unavailable("cmdq.fail: failing attempt " + std::to_string(ctx.attempt()) +
                                     " of the first " + std::to_string(*times) + " on purpose"));
  }
  return std::string();
}

}  // namespace

Handler SleepHandler() { return {.execute = RunSleep, .undo = {}}; }
Handler FailHandler() { return {.execute = RunFail, .undo = {}}; }

Status RegisterBuiltinTypes(Bus& bus, const TypeOptions& options) {
  const std::pair<const char*, Handler> types[] = {
      {kNoopType, NoopHandler()},
      {kEchoType, EchoHandler()},
      {kSleepType, SleepHandler()},
      {kFailType, FailHandler()},
  };
  for (const auto& [type, handler] : types) {
    Status status = bus.Register(type, handler, options);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace cmdq::app
