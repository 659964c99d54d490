// The durable bus the tests of this directory run: a RocksDB store with small write
// buffers, Mode::kDurable with 2 workers, types declared by the test, started.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "cmdq/bus.h"
#include "cmdq/rocksdb_store.h"

namespace cmdq::testing {

inline Result<std::unique_ptr<Store>> OpenTestStore(const std::string& path) {
  return OpenRocksDbStore({.path = path, .write_buffer_bytes = size_t{4} << 20});
}

// Null (and a test failure) when the bus cannot be made or started. `options.mode` and
// `options.workers` are set here; `declare` registers the test's types.
inline std::unique_ptr<Bus> StartDurableBus(std::unique_ptr<Store> store, BusOptions options,
                                            const std::function<Status(Bus&)>& declare) {
  options.mode = Mode::kDurable;
  options.workers = 2;
  BusDeps deps;
  deps.store = std::move(store);
  auto bus = Bus::Create(std::move(options), std::move(deps));
  EXPECT_TRUE(bus.has_value()) << bus.error().ToString();
  if (!bus) return nullptr;
  if (Status s = declare(**bus); !s.ok()) {
    ADD_FAILURE() << s.ToString();
    return nullptr;
  }
  EXPECT_TRUE((*bus)->Start().ok());
  return std::move(*bus);
}

// The same on a store opened at `path`.
inline std::unique_ptr<Bus> StartDurableBus(const std::string& path, BusOptions options,
                                            const std::function<Status(Bus&)>& declare) {
  auto store = OpenTestStore(path);
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
  if (!store) return nullptr;
  return StartDurableBus(std::move(*store), std::move(options), declare);
}

}  // namespace cmdq::testing
