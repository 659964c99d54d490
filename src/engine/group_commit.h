// GroupCommitter: many threads' store writes share one synced write (durable mode).
//
// LevelDB's scheme: writers queue up; the one at the front writes its own batch together
// with every batch queued behind it (up to a size cap) in one synced Store::Write, then
// wakes them with the common status. A lone writer goes at once, so batch size follows the
// load instead of a timer. Two groups may be written at once (the store overlaps them)
// when the second is large.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "cmdq/bus.h"
#include "cmdq/store.h"

namespace cmdq::engine {

class GroupCommitter {
 public:
  GroupCommitter(Store& store, bool sync, std::function<void(const CommitStats&)> on_commit = {})
      : store_(store), sync_(sync), on_commit_(std::move(on_commit)) {}

  // Writes `batch` durably with whatever else is waiting. Returns when it is on disk
  // (sync) or applied, with the status of the group's write: on success `batch` is left
  // empty, on failure it holds its items again, ready for a retry.
  Status Commit(StoreBatch& batch);

  // Figures for metrics and benchmarks.
  uint64_t writes() const;   // synced writes made
  uint64_t batches() const;  // Commit calls served
  size_t waiting() const;    // writers queued now, not yet taken into a group

 private:
  struct Writer {
    StoreBatch* batch;
    size_t inserts = 0;  // what the writer brought, to give back if the write fails
    size_t transitions = 0;
    bool done = false;
    Status status;
    std::condition_variable cv;
  };

  // The front writer may lead a group now: none is being written, or one is and the
  // queue holds enough for a second (see kOverlapAtLeast).
  bool MayLeadLocked() const;

  Store& store_;
  const bool sync_;
  const std::function<void(const CommitStats&)> on_commit_;  // metrics; may be empty
  mutable std::mutex mu_;
  std::deque<Writer*> queue_;
  size_t queued_items_ = 0;  // the items of the batches in queue_
  int leaders_ = 0;          // groups being written now
  uint64_t writes_ = 0;
  uint64_t batches_ = 0;
};

}  // namespace cmdq::engine
