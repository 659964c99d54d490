#include "engine/group_commit.h"

#include <chrono>

namespace cmdq::engine {
namespace {

// A group stops growing here: bigger groups add latency for the writers at its front.
constexpr size_t kMaxGroupItems = 4096;

}  // namespace

Status GroupCommitter::Commit(StoreBatch& batch) {
  Writer self{.batch = &batch};
  std::unique_lock lock(mu_);
  queue_.push_back(&self);
  self.cv.wait(lock, [&] { return self.done || queue_.front() == &self; });
  if (self.done) return self.status;

  // The leader: take in the batches queued behind it, write them all at once.
  members_.clear();
  size_t items = 0;
  for (Writer* w : queue_) {
    if (!members_.empty() && items + w->batch->size() > kMaxGroupItems) break;
    items += w->batch->size();
    members_.push_back(w);
  }
  const size_t members = members_.size();
  lock.unlock();
  // A lone writer's batch is written as it is; a group's are moved into one. The members
  // wait until the leader wakes them, so their batches are the leader's until then.
  const bool alone = members == 1;
  if (!alone) {
    group_.Clear();
    for (Writer* w : members_) {
      w->inserts = w->batch->inserts().size();
      w->transitions = w->batch->transitions().size();
      group_.Absorb(*w->batch);
    }
  }
  const auto started = std::chrono::steady_clock::now();
  const Status status = store_.Write(alone ? batch : group_, WriteOptions{.sync = sync_});
  if (on_commit_) {
    on_commit_(CommitStats{.batches = static_cast<uint32_t>(members),
                           .write_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::steady_clock::now() - started)
                                           .count()});
  }
  if (alone) {
    if (status.ok()) batch.Clear();
  } else if (!status.ok()) {
    // Give every writer its items back, last member first (they sit at the group's end).
    for (size_t i = members; i-- > 0;) {
      group_.MoveTailTo(*members_[i]->batch, members_[i]->inserts, members_[i]->transitions);
    }
  }
  lock.lock();
  ++writes_;
  batches_ += members;
  for (size_t i = 0; i < members; ++i) {
    Writer* w = queue_.front();
    queue_.pop_front();
    w->status = status;
    w->done = true;
    if (w != &self) w->cv.notify_one();
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();
  return status;
}

uint64_t GroupCommitter::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

uint64_t GroupCommitter::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

}  // namespace cmdq::engine
