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
  size_t members = 0;
  group_.Clear();
  for (Writer* w : queue_) {
    if (members > 0 && group_.size() + w->batch->size() > kMaxGroupItems) break;
    group_.Absorb(*w->batch);
    ++members;
  }
  lock.unlock();
  const auto started = std::chrono::steady_clock::now();
  const Status status = store_.Write(group_, WriteOptions{.sync = sync_});
  if (on_commit_) {
    on_commit_(CommitStats{.batches = static_cast<uint32_t>(members),
                           .write_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::steady_clock::now() - started)
                                           .count()});
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
