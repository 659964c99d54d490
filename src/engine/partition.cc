#include "engine/partition.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

namespace cmdq::engine {

Partition::~Partition() {
  for (Task* t : TakeAll()) delete t;
}

void Partition::PushTask(Task* task) {
  std::lock_guard lock(inbox_mu_);
  inbox_tasks_.push_back(task);
  inbox_nonempty_.store(true);
}

void Partition::PushControl(Control control) {
  std::lock_guard lock(inbox_mu_);
  inbox_controls_.push_back(std::move(control));
  inbox_nonempty_.store(true);
}

void Partition::PushSettled(Task* task, State state, int64_t due_us) {
  std::lock_guard lock(inbox_mu_);
  inbox_settled_.push_back({task, state, due_us});
  inbox_nonempty_.store(true);
}

void Partition::ReleaseOne() {
  depth.fetch_sub(1);
  if (blocked_producers.load() > 0) depth.notify_all();
}

bool Partition::Place(Task* task, State state, int64_t retry_due_us) {
  if (state == State::kFailed) {
    WaitRetry(task, retry_due_us);
    return false;
  }
  if (state == State::kDead && task->ordered() && task->type->options.park_key_on_dead) {
    Park(task);
    return false;
  }
  Finish(task);
  return true;
}

bool Partition::InboxEmpty() { return !inbox_nonempty_.load(); }

void Partition::DrainInbox(int64_t now_us, bool run_controls) {
  if (InboxEmpty()) return;
  std::vector<Control> controls;
  {
    std::lock_guard lock(inbox_mu_);
    drained_.swap(inbox_tasks_);
    if (run_controls) controls.swap(inbox_controls_);
    settled_.swap(inbox_settled_);
    inbox_nonempty_.store(!inbox_controls_.empty(), std::memory_order_relaxed);
  }
  for (Task* t : drained_) Admit(t, now_us);
  drained_.clear();
  for (const SettledTask& s : settled_) {
    if (!Place(s.task, s.state, s.due_us)) continue;
    ReleaseOne();
    delete s.task;
  }
  settled_.clear();
  // Controls run after the tasks that were submitted before them are in place.
  for (Control& c : controls) c.run();
}

void Partition::Admit(Task* task, int64_t now_us) {
  if (task->state == State::kFailed && task->ordered()) {
    // Recovered while waiting for its retry: it still holds its key back until then.
    Enqueue(task);
    KeyQueue* kq = task->key;
    if (kq->head == task && EraseFromReady(task)) AddTimer(task, std::max(task->due_us, now_us));
    return;
  }
  if (task->due_us > now_us) {
    AddTimer(task, task->due_us);
  } else {
    Enqueue(task);
  }
}

void Partition::Enqueue(Task* task) {
  if (!task->ordered()) {
    ready_.push_back(task);
    return;
  }
  KeyQueue* kq = KeyQueueFor(task->command->key);
  task->key = kq;
  task->next = nullptr;
  if (kq->tail) {
    kq->tail->next = task;
  } else {
    kq->head = task;
  }
  kq->tail = task;
  if (!kq->head_active && !kq->parked) {
    kq->head_active = true;
    ready_.push_back(kq->head);
  }
}

void Partition::AddTimer(Task* task, int64_t due_us) {
  task->due_us = due_us;
  timers_.push_back({due_us, task});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
  PublishNextDue();
}

void Partition::PublishNextDue() {
  next_due_us.store(timers_.empty() ? INT64_MAX : timers_.front().due_us,
                    std::memory_order_release);
}

void Partition::ReleaseDue(int64_t now_us) {
  if (timers_.empty() || timers_.front().due_us > now_us) return;
  while (!timers_.empty() && timers_.front().due_us <= now_us) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
    Task* t = timers_.back().task;
    timers_.pop_back();
    if (t->state == State::kScheduled || !t->key) {
      // A scheduled command joins its key's queue when its time comes; an unordered
      // retry or deferral is simply ready.
      if (t->state == State::kScheduled) {
        Enqueue(t);
      } else {
        ready_.push_back(t);
      }
    } else {
      ready_.push_back(t);  // an ordered key's head, back from its retry wait
    }
  }
  PublishNextDue();
}

Task* Partition::PopReady() {
  if (ready_.empty()) return nullptr;
  Task* t = ready_.front();
  ready_.pop_front();
  return t;
}

void Partition::PublishOldest() {
  oldest_ready_ns.store(ready_.empty() ? 0 : ready_.front()->submitted_ns,
                        std::memory_order_relaxed);
}

void Partition::AdvanceKey(KeyQueue* kq) {
  Task* head = kq->head;
  kq->head = head->next;
  if (!kq->head) kq->tail = nullptr;
  head->next = nullptr;
  head->key = nullptr;
  kq->head_active = false;
  if (kq->head) {
    kq->head_active = true;
    ready_.push_back(kq->head);
  } else if (++idle_keys_ > kMaxIdleKeys) {
    SweepIdleKeys();
  }
}

void Partition::Finish(Task* task) {
  if (task->key) AdvanceKey(task->key);
}

void Partition::WaitRetry(Task* task, int64_t due_us) { AddTimer(task, due_us); }

void Partition::Defer(Task* task, int64_t due_us) { AddTimer(task, due_us); }

void Partition::Park(Task* task) {
  KeyQueue* kq = task->key;
  kq->head_active = false;
  kq->parked = true;
}

void Partition::SweepIdleKeys() {
  std::vector<uint64_t> chains;
  keys_.ForEach([&chains](uint64_t key_id, const KeyQueue*) { chains.push_back(key_id); });
  for (uint64_t key_id : chains) {
    KeyQueue** slot = keys_.Find(key_id);
    if (slot == nullptr) continue;
    KeyQueue** link = slot;
    while (KeyQueue* kq = *link) {
      if (kq->head == nullptr && !kq->parked) {
        *link = kq->same_hash;
        delete kq;
      } else {
        link = &kq->same_hash;
      }
    }
    if (*slot == nullptr) keys_.Erase(key_id);
  }
  idle_keys_ = 0;
}

uint64_t Partition::KeyId(std::string_view key) const {
  const uint64_t hash = key_hash_(key);
  return hash != 0 ? hash : 1;  // 0 marks an empty slot of the map
}

namespace {

// The queue of `key` in the chain that starts at `first` (keys of one hash), or null.
KeyQueue* InChain(KeyQueue* first, std::string_view key) {
  for (KeyQueue* kq = first; kq != nullptr; kq = kq->same_hash) {
    if (kq->key == key) return kq;
  }
  return nullptr;
}

}  // namespace

KeyQueue* Partition::FindKey(std::string_view key) {
  KeyQueue** found = keys_.Find(KeyId(key));
  return found == nullptr ? nullptr : InChain(*found, key);
}

KeyQueue* Partition::KeyQueueFor(std::string_view key) {
  const uint64_t key_id = KeyId(key);
  KeyQueue** found = keys_.Find(key_id);
  KeyQueue* first = found == nullptr ? nullptr : *found;
  if (KeyQueue* kq = InChain(first, key)) return kq;
  auto* kq = new KeyQueue{.key = std::string(key), .same_hash = first};
  if (found != nullptr) {
    *found = kq;
  } else {
    keys_.Insert(key_id, kq);
  }
  return kq;
}

bool Partition::EraseFromReady(Task* task) {
  auto it = std::find(ready_.begin(), ready_.end(), task);
  if (it == ready_.end()) return false;
  ready_.erase(it);
  return true;
}

bool Partition::EraseFromTimers(Task* task) {
  auto it = std::find_if(timers_.begin(), timers_.end(),
                         [task](const TimerEntry& e) { return e.task == task; });
  if (it == timers_.end()) return false;
  timers_.erase(it);
  std::make_heap(timers_.begin(), timers_.end(), std::greater<>());
  PublishNextDue();
  return true;
}

Task* Partition::Remove(CommandId id, std::string_view key, bool ordered) {
  // Scheduled tasks and unordered tasks live in the timers or the ready queue only.
  for (const TimerEntry& e : timers_) {
    if (e.task->id() == id && !e.task->key) {
      Task* t = e.task;
      EraseFromTimers(t);
      return t;
    }
  }
  if (!ordered) {
    auto it = std::find_if(ready_.begin(), ready_.end(), [id](Task* t) { return t->id() == id; });
    if (it == ready_.end()) return nullptr;
    Task* t = *it;
    ready_.erase(it);
    return t;
  }
  KeyQueue* kq = FindKey(key);
  if (!kq) return nullptr;
  if (kq->head && kq->head->id() == id) {
    Task* t = kq->head;
    // An active head in neither the ready queue nor the timers runs elsewhere: a remote
    // worker holds it (or the lease broker offers it). It is not this partition's to give.
    if (kq->head_active && !EraseFromReady(t) && !EraseFromTimers(t)) return nullptr;
    kq->parked = false;
    AdvanceKey(kq);
    return t;
  }
  for (Task* prev = kq->head; prev && prev->next; prev = prev->next) {
    if (prev->next->id() != id) continue;
    Task* t = prev->next;
    prev->next = t->next;
    if (kq->tail == t) kq->tail = prev;
    t->next = nullptr;
    t->key = nullptr;
    return t;
  }
  return nullptr;
}

void Partition::ForgetWithdrawn(Task* task) {
  if (KeyQueue* kq = task->key) {
    kq->parked = false;
    AdvanceKey(kq);
  }
}

Task* Partition::Unpark(CommandId id, std::string_view key) {
  KeyQueue* kq = FindKey(key);
  if (!kq || !kq->parked || !kq->head || kq->head->id() != id) return nullptr;
  kq->parked = false;
  kq->head_active = true;
  ready_.push_back(kq->head);
  return kq->head;
}

std::vector<Task*> Partition::TakeAll() {
  DrainInbox(INT64_MIN);  // admits everything as a timer or queued task; runs controls
  std::unordered_set<Task*> all;
  for (Task* t : ready_) all.insert(t);
  for (const TimerEntry& e : timers_) all.insert(e.task);
  keys_.ForEach([&all](uint64_t, KeyQueue* first) {
    for (KeyQueue* kq = first; kq != nullptr;) {
      for (Task* t = kq->head; t; t = t->next) all.insert(t);
      delete std::exchange(kq, kq->same_hash);
    }
  });
  ready_.clear();
  timers_.clear();
  keys_ = FlatIdMap<KeyQueue*>();
  PublishNextDue();
  std::vector<Task*> out(all.begin(), all.end());
  std::sort(out.begin(), out.end(), [](Task* a, Task* b) { return a->id() < b->id(); });
  return out;
}

}  // namespace cmdq::engine
