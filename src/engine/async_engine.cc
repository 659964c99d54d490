#include "engine/async_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>
#include <unordered_set>

#include "core/partitioner.h"

namespace cmdq::engine {

AsyncEngine::AsyncEngine(uint32_t partitions, uint32_t workers, Store& store,
                         GroupCommitter* committer, const Clock& clock, StoredFn on_stored,
                         LeaseBroker::ExpiredFn on_lease_expired,
                         std::chrono::milliseconds lease_drain_wait,
                         LeaseBroker::LeasedFn on_leased)
    : store_(store),
      committer_(committer),
      clock_(clock),
      on_stored_(std::move(on_stored)),
      lease_drain_wait_(lease_drain_wait),
      broker_(
          RunnerEnv{store_, committer_, clock_, limiter_, on_stored_, stop_now_},
          [this](std::span<const LeaseBroker::Settled> settled) {
            std::vector<Partition*> touched;
            touched.reserve(settled.size());
            for (const LeaseBroker::Settled& s : settled) {
              Partition& p = *partitions_[s.task->partition];
              p.PushSettled(s.task, s.state, s.due_us);
              touched.push_back(&p);
            }
            HandleRemote(touched);
          },
          std::move(on_lease_expired), std::move(on_leased)),
      ticker_(clock, partitions_, slots_, run_queue_,
              [this](int64_t now_us) { broker_.ExpireDue(now_us); }) {
  for (uint32_t i = 0; i < partitions; ++i) partitions_.push_back(std::make_unique<Partition>(i));
  for (uint32_t i = 0; i < workers; ++i) {
    slots_.push_back(std::make_unique<WorkerSlot>(fmt::format("worker-{}", i)));
  }
}

AsyncEngine::~AsyncEngine() {
  if (running_.load()) Stop(StopMode::kNow);
}

void AsyncEngine::Start() {
  running_.store(true);
  ticker_.Start();
  for (size_t i = 0; i < slots_.size(); ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
}

uint32_t AsyncEngine::PartitionOf(const Command& command, bool ordered) const {
  const auto n = static_cast<uint32_t>(partitions_.size());
  if (ordered) return cmdq::PartitionOf(command.key, n);
  return JumpConsistentHash(command.id.value() * 0x9E3779B97F4A7C15ull, n);
}

namespace {

// The engine whose worker the calling thread is (null on any other thread).
thread_local const AsyncEngine* this_thread_works_for = nullptr;

}  // namespace

Status AsyncEngine::Reserve(Partition& p, uint32_t capacity, bool block) {
  if (this_thread_works_for == this) {
    // A handler submitting on a worker: were it held to the bound, it could wait for room
    // that only its own partition, held by this very thread, can make, and never get it.
    // What handlers submit is bounded by what they run, so it may go past the bound.
    if (!running_.load()) return Status::Unavailable("the bus is stopping");
    p.depth.fetch_add(1);
    return Status::Ok();
  }
  for (;;) {
    if (!running_.load() || waits_refused_.load()) {
      return Status::Unavailable("the bus is stopping");
    }
    uint32_t d = p.depth.load();
    if (d < capacity) {
      if (p.depth.compare_exchange_weak(d, d + 1)) return Status::Ok();
      continue;
    }
    if (!block) {
      return Status::ResourceExhausted(
          fmt::format("partition {} is full ({} commands queued)", p.index(), d));
    }
    p.blocked_producers.fetch_add(1);
    // Checked again after `d` was read: RefuseWaits sets the flag before it marks every
    // depth, and the mark stays whatever else moves it, so either this sees the flag or
    // the wait sees a depth other than `d` and returns.
    if (!waits_refused_.load()) p.depth.wait(d);
    p.blocked_producers.fetch_sub(1);
  }
}

void AsyncEngine::RefuseWaits() {
  if (waits_refused_.exchange(true)) return;
  // An atomic wait sleeps on until its value is other than the one it was given: mark
  // each depth with a bit no decrement takes off. TakeLeft sets every depth to 0 at the
  // end of Stop.
  for (auto& p : partitions_) {
    p->depth.fetch_or(Partition::kWaitsRefused);
    p->depth.notify_all();
  }
}

void AsyncEngine::Enqueue(std::span<Task* const> tasks) {
  if (tasks.size() == 1) {  // a lone submit: no lists to allocate on its hot path
    Partition* p = partitions_[tasks[0]->partition].get();
    const bool is_remote = tasks[0]->type->remote;  // once pushed, a worker may free it
    p->PushTask(tasks[0]);
    if (is_remote) {
      HandleRemote(std::span<Partition*>(&p, 1));
    } else {
      run_queue_.Schedule(*p);
    }
    return;
  }
  // Reserved before any push: once a task is pushed, it must reach a scheduling call.
  std::vector<Partition*> remote, local;
  remote.reserve(tasks.size());
  local.reserve(tasks.size());
  for (Task* task : tasks) {
    Partition& p = *partitions_[task->partition];
    const bool is_remote = task->type->remote;  // once pushed, a worker may run and free it
    p.PushTask(task);
    (is_remote ? remote : local).push_back(&p);
  }
  // Remote ones first: a worker that claimed a partition for an in-process task would
  // offer its remote tasks only after running that task.
  HandleRemote(remote);
  for (Partition* p : local) run_queue_.Schedule(*p);
}

void AsyncEngine::HandleRemote(std::span<Partition*> remote) {
  if (remote.empty()) return;
  std::sort(remote.begin(), remote.end());
  remote =
      remote.first(static_cast<size_t>(std::unique(remote.begin(), remote.end()) - remote.begin()));
  // Counted before running_ is read, and Stop clears running_ before it waits for the
  // count to fall: either this call sees the stop, or Stop waits until it let go.
  inline_owners_.fetch_add(1);
  struct LetGo {
    std::atomic<int>& owners;
    ~LetGo() { owners.fetch_sub(1); }
  } let_go{inline_owners_};
  for (Partition* p : remote) {
    if (!running_.load()) {
      run_queue_.Schedule(*p);
    } else if (!p->scheduled.load() && !p->scheduled.exchange(true)) {
      OfferReadyHeads(*p);
    }  // else its holder drains the inbox
  }
}

void AsyncEngine::WaitInlineOwners() {
  while (inline_owners_.load() > 0) std::this_thread::yield();
}

void AsyncEngine::OfferReadyHeads(Partition& p) {
  const int64_t now = clock_.NowMicros();
  // Controls (cancel, re-drive) may write to the store; they wait for a worker, not run on
  // the caller's thread, which may be an event loop. They keep the inbox non-empty, so
  // the check below schedules `p`.
  p.DrainInbox(now, /*run_controls=*/false);
  p.ReleaseDue(now);
  std::vector<Task*> ready;
  while (Task* t = p.PeekReady()) {
    // In-process work, and the per-key limits of unordered types, are a worker's to judge.
    const bool limited = !t->ordered() && t->type->options.max_concurrency_per_key != 0;
    if (!t->type->remote || limited) break;
    p.PopReady();
    ready.push_back(t);
  }
  broker_.OfferAll(ready);
  p.PublishOldest();
  if (p.HasReady()) {
    run_queue_.Requeue(p);
    return;
  }
  p.scheduled.store(false);
  // As in WorkerLoop: something may have arrived after the check, before the flag fell.
  if (p.HasIncoming(clock_.NowMicros())) run_queue_.Schedule(p);
}

Status AsyncEngine::RunOnOwner(uint32_t partition, std::function<Status()> fn) {
  if (!running_.load()) return Status::Unavailable("the bus is not running");
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> done = promise->get_future();
  Partition& p = *partitions_[partition];
  p.PushControl({[promise, fn = std::move(fn)] { promise->set_value(fn()); }});
  run_queue_.Schedule(p);
  return done.get();
}

std::vector<PartitionStats> AsyncEngine::Stats() const {
  const int64_t now_ns = std::chrono::steady_clock::now().time_since_epoch().count();
  std::vector<PartitionStats> out;
  out.reserve(partitions_.size());
  for (const auto& p : partitions_) {
    const int64_t oldest = p->oldest_ready_ns.load(std::memory_order_relaxed);
    out.push_back({p->Queued(), oldest == 0 ? 0 : std::max<int64_t>(0, (now_ns - oldest) / 1000)});
  }
  return out;
}

uint64_t AsyncEngine::Depth() const {
  uint64_t total = 0;
  for (const auto& p : partitions_) total += p->Queued();
  return total;
}

void AsyncEngine::WorkerLoop(size_t index) {
  this_thread_works_for = this;
  WorkerSlot& slot = *slots_[index];
  BatchRunner runner(
      RunnerEnv{store_, committer_, clock_, limiter_, on_stored_, stop_now_, &broker_});
  // In durable mode a write waits for its fsync: the outcomes of several partitions
  // share one, so that a worker is not held to one partition's ready tasks per fsync.
  constexpr size_t kMaxHeld = 64;
  std::vector<Partition*> held;
  while (Partition* first = run_queue_.Claim()) {
    held.assign(1, first);
    runner.Run(*first, slot);
    while (held.size() < kMaxHeld && runner.HasRoom() && !stop_now_.load()) {
      Partition* p = run_queue_.TryClaim();
      if (p == nullptr) break;
      held.push_back(p);
      runner.Run(*p, slot, /*joined=*/true);
    }
    runner.Flush();
    for (Partition* p : held) {
      if (p->HasWork(clock_.NowMicros()) && !stop_now_.load()) {
        run_queue_.Requeue(*p);
      } else {
        p->scheduled.store(false);
        // A producer may have pushed after the check above but before the flag fell. Only
        // the thread-safe parts may be read now: another worker may own the partition.
        if (p->HasIncoming(clock_.NowMicros())) run_queue_.Schedule(*p);
      }
      run_queue_.Release();
    }
  }
}

StopReport AsyncEngine::Stop(StopMode mode) {
  StopReport report;
  if (!running_.exchange(false)) return report;
  RefuseWaits();       // a producer waiting for room would wait for workers about to stop
  WaitInlineOwners();  // from here on, every partition is a worker's (or nobody's)
  broker_.StopLeasing();
  if (mode == StopMode::kDrain) {
    // Remote workers may still finish what they hold; their outcomes settle meanwhile.
    broker_.WaitLeased(std::chrono::steady_clock::now() + lease_drain_wait_);
    while (!run_queue_.WaitQuiescent(std::chrono::milliseconds(100))) {
    }
  } else {
    stop_now_.store(true);
    for (auto& slot : slots_) slot->FireNow();
  }
  run_queue_.Close();
  for (auto& t : threads_) t.join();
  threads_.clear();
  ticker_.Stop();
  report.left = TakeLeft();
  return report;
}

std::vector<CommandId> AsyncEngine::TakeLeft() {
  // A task held by the broker may also be its key's head in a partition: count it once.
  std::unordered_set<Task*> all;
  for (Task* t : broker_.TakeAll()) all.insert(t);
  for (auto& p : partitions_) {
    for (Task* t : p->TakeAll()) all.insert(t);
    p->depth.store(0);
    p->depth.notify_all();
  }
  std::vector<CommandId> left;
  left.reserve(all.size());
  for (Task* t : all) {
    left.push_back(t->id());
    delete t;
  }
  std::sort(left.begin(), left.end());
  return left;
}

}  // namespace cmdq::engine
