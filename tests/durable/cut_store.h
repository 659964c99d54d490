// CutStore: a Store that stops persisting at a moment the test picks, like a process that
// died there. Until Cut() it forwards everything to the real store; after it, writes
// report success but change nothing, so the store holds exactly what was written before
// the cut (reads still go through). A bus on it can then be stopped in-process and its
// store reopened to see what a crash at that moment would have left. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "cmdq/store.h"

namespace cmdq::testing {

class CutStore : public Store {
 public:
  explicit CutStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  void Cut() { cut_.store(true); }

  Status Write(const StoreBatch& batch, const WriteOptions& options) override {
    if (cut_.load()) return Status::Ok();
    return inner_->Write(batch, options);
  }
  Result<Record> Get(CommandId id) const override { return inner_->Get(id); }
  Result<ListPage> List(const ListQuery& query) const override { return inner_->List(query); }
  Result<std::vector<AuditEvent>> Audit(CommandId id) const override { return inner_->Audit(id); }
  Result<std::vector<Record>> Unfinished() const override { return inner_->Unfinished(); }

 private:
  std::unique_ptr<Store> inner_;
  std::atomic<bool> cut_{false};
};

}  // namespace cmdq::testing
