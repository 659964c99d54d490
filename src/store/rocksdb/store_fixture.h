// The fixture of the RocksDB store's tests: a store in a fresh directory, reopened at
// will, with shorthands for inserts, moves and paging through List.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cmdq/rocksdb_store.h"
#include "store/rocksdb/test_dir.h"

namespace cmdq::rocksdb_store::testing {

class RocksDbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(RocksDbStoreOptions options) {
    store_.reset();
    auto s = OpenRocksDbStore(std::move(options));
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
  }
  // What Open() and Reopen() open: a subclass may change it.
  virtual RocksDbStoreOptions Options() { return TestOptions(dir_.Sub("db")); }
  void Open() { Open(Options()); }
  void Reopen() {
    store_.reset();
    Open();
  }

  Status Insert(uint64_t id, std::string key = "k", std::string type = "t",
                State state = State::kPending) {
    StoreBatch b;
    b.Insert(MakeCommand(id, std::move(key), std::move(type)), state, static_cast<int64_t>(id));
    return store_->Write(b, {.sync = true});
  }
  Status Move(uint64_t id, State from, State to, Transition t = {}) {
    t.id = CommandId(id);
    t.from = from;
    t.to = to;
    StoreBatch b;
    b.Apply(std::move(t));
    return store_->Write(b, {});
  }
  void Finish(uint64_t id, State last = State::kSucceeded) {
    ASSERT_TRUE(Move(id, State::kPending, State::kRunning, {.attempt = 1}).ok());
    ASSERT_TRUE(Move(id, State::kRunning, last, {.attempt = 1}).ok());
  }
  // Every page of `q`, checking the pages' order and cursors; returns the ids in order.
  std::vector<uint64_t> AllPages(ListQuery q) {
    std::vector<uint64_t> ids;
    for (int pages = 0; pages < 10'000; ++pages) {
      auto page = store_->List(q);
      EXPECT_TRUE(page.has_value()) << page.error().ToString();
      if (!page) break;
      EXPECT_LE(page->records.size(), q.limit);
      for (const Record& r : page->records) ids.push_back(r.command.id.value());
      if (!page->next_cursor.valid()) break;
      q.before = page->next_cursor;
    }
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace cmdq::rocksdb_store::testing
