#include "engine/group_commit.h"

#include <chrono>
#include <vector>

namespace cmdq::engine {
namespace {

// A group stops growing here: bigger groups add latency for the writers at its front.
constexpr size_t kMaxGroupItems = 4096;
// Groups written at once: two let the store overlap one's fsync with the other's inserts.
constexpr int kMaxLeaders = 2;
// A second group starts beside a write in flight only when it is this large. The store
// syncs its log one write at a time, so a small second group only waits inside the store
// for the first one's fsync and then pays an fsync of its own; waiting here instead lets
// everything that comes meanwhile share that fsync. At 10k commands/s over HTTP the
// requests are a few commands each: they used to take one fsync apiece (~3.8k fsyncs/s
// at 2k commands/s), which kept the disk busy and queued every write behind it.
constexpr size_t kOverlapAtLeast = 64;

}  // namespace

Status GroupCommitter::Commit(StoreBatch& batch) {
  Writer self{.batch = &batch};
  std::unique_lock lock(mu_);
  queue_.push_back(&self);
  queued_items_ += batch.size();
  // Enough has queued behind a lone write in flight for a second group to be worth it.
  if (leaders_ == 1 && queue_.front() != &self && MayLeadLocked()) queue_.front()->cv.notify_one();
  // A member taken into a group has left the queue (which may be empty) until it is done.
  self.cv.wait(lock, [&] {
    return self.done || (!queue_.empty() && queue_.front() == &self && MayLeadLocked());
  });
  if (self.done) return self.status;

  // A leader: take in the batches queued behind it, write them all at once.
  std::vector<Writer*> members;
  size_t items = 0;
  for (Writer* w : queue_) {
    if (!members.empty() && items + w->batch->size() > kMaxGroupItems) break;
    items += w->batch->size();
    members.push_back(w);
  }
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(members.size()));
  queued_items_ -= items;
  ++leaders_;
  // The next writer may lead a group of its own meanwhile: the store overlaps two writes
  // (one's fsync with the other's memtable inserts).
  if (!queue_.empty() && MayLeadLocked()) queue_.front()->cv.notify_one();
  lock.unlock();
  // A lone writer's batch is written as it is; a group's are moved into one. The members
  // wait until the leader wakes them, so their batches are the leader's until then.
  const bool alone = members.size() == 1;
  StoreBatch group;
  if (!alone) {
    for (Writer* w : members) {
      w->inserts = w->batch->inserts().size();
      w->transitions = w->batch->transitions().size();
      group.Absorb(*w->batch);
    }
  }
  const auto started = std::chrono::steady_clock::now();
  const Status status = store_.Write(alone ? batch : group, WriteOptions{.sync = sync_});
  if (on_commit_) {
    on_commit_(CommitStats{.batches = static_cast<uint32_t>(members.size()),
                           .write_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::steady_clock::now() - started)
                                           .count()});
  }
  if (alone) {
    if (status.ok()) batch.Clear();
  } else if (!status.ok()) {
    // Give every writer its items back, last member first (they sit at the group's end).
    for (size_t i = members.size(); i-- > 0;) {
      group.MoveTailTo(*members[i]->batch, members[i]->inserts, members[i]->transitions);
    }
  }
  lock.lock();
  --leaders_;
  ++writes_;
  batches_ += members.size();
  for (Writer* w : members) {
    w->status = status;
    w->done = true;
    if (w != &self) w->cv.notify_one();
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();
  return status;
}

bool GroupCommitter::MayLeadLocked() const {
  return leaders_ == 0 || (leaders_ < kMaxLeaders && queued_items_ >= kOverlapAtLeast);
}

uint64_t GroupCommitter::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

size_t GroupCommitter::waiting() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

uint64_t GroupCommitter::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

}  // namespace cmdq::engine
