// Helpers for the store's tests: commands with given ids, and one-item batches.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "cmdq/store.h"

namespace cmdq::store::testing {

// Test sizes shrink under sanitizers: CMDQ_TEST_SCALE=0.05 runs 5% of the work.
inline size_t Scaled(size_t n, size_t min = 1000) {
  const char* s = std::getenv("CMDQ_TEST_SCALE");
  if (s == nullptr) return n;
  return std::max(min, static_cast<size_t>(static_cast<double>(n) * std::atof(s)));
}

inline std::shared_ptr<const Command> MakeCommand(uint64_t id, std::string key = "k",
                                                  std::string type = "t") {
  auto c = std::make_shared<Command>();
  c->id = CommandId(id);
  c->key = std::move(key);
  c->type = std::move(type);
  c->payload = "payload-" + std::to_string(id);
  return c;
}

inline Transition Move(uint64_t id, State from, State to, int64_t time_us = 0) {
  return Transition{.id = CommandId(id), .from = from, .to = to, .time_us = time_us};
}

inline Status InsertOne(Store& store, uint64_t id, std::string key = "k", std::string type = "t",
                        int64_t time_us = 0) {
  StoreBatch batch;
  batch.Insert(MakeCommand(id, std::move(key), std::move(type)), State::kPending, time_us);
  return store.Write(batch, {});
}

inline Status MoveOne(Store& store, uint64_t id, State from, State to, int64_t time_us = 0) {
  StoreBatch batch;
  batch.Apply(Move(id, from, to, time_us));
  return store.Write(batch, {});
}

// pending -> running -> succeeded, one write each, as the async bus does.
inline void Finish(Store& store, uint64_t id) {
  (void)MoveOne(store, id, State::kPending, State::kRunning);
  (void)MoveOne(store, id, State::kRunning, State::kSucceeded);
}

}  // namespace cmdq::store::testing
