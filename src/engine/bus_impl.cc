#include "engine/bus_impl.h"

#include <fmt/format.h>

#include <thread>

#include "engine/attempt.h"
#include "engine/command_validator.h"
#include "engine/steady_now.h"

namespace cmdq {
namespace {

using engine::SteadyNowNs;

// Counts a submit in flight so that Stop can wait for it.
class InFlight {
 public:
  explicit InFlight(std::atomic<int64_t>& n) : n_(n) { n_.fetch_add(1); }
  ~InFlight() { n_.fetch_sub(1); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::atomic<int64_t>& n_;
};

}  // namespace

Bus::Impl::Impl(BusOptions options, BusDeps deps)
    : options_(std::move(options)),
      store_(std::move(deps.store)),
      cache_(std::move(deps.cache)),
      clock_(deps.clock),
      ids_(options_.node_id, deps.clock),
      dedup_(std::chrono::duration_cast<std::chrono::microseconds>(options_.dedup_window).count(),
             options_.dedup_max_keys),
      clock_target_(std::make_shared<std::atomic<engine::AsyncEngine*>>(nullptr)) {}

Bus::Impl::~Impl() {
  if (phase_.load() == Phase::kRunning) Stop(StopMode::kNow);
  clock_target_->store(nullptr);
}

Status Bus::Impl::Register(std::string type, Handler handler, TypeOptions options) {
  if (phase_.load() != Phase::kCreated) {
    return Status::FailedPrecondition("handlers are registered before Start()");
  }
  return registry_.Register(std::move(type), std::move(handler), options);
}

Status Bus::Impl::RegisterRemote(std::string type, TypeOptions options) {
  if (phase_.load() != Phase::kCreated) {
    return Status::FailedPrecondition("types are registered before Start()");
  }
  if (options_.mode == Mode::kSync) {
    return Status::FailedPrecondition("remote types need the async or durable mode");
  }
  return registry_.RegisterRemote(std::move(type), options);
}

Status Bus::Impl::Start() {
  Phase expected = Phase::kCreated;
  if (!phase_.compare_exchange_strong(expected, Phase::kRunning)) {
    return Status::FailedPrecondition("the bus was started already");
  }
  if (options_.mode == Mode::kSync) return Status::Ok();
  if (options_.mode == Mode::kDurable) {
    committer_ =
        std::make_unique<engine::GroupCommitter>(*store_, /*sync=*/true, options_.on_commit);
  }
  const uint32_t workers =
      options_.workers != 0 ? options_.workers : std::max(1u, std::thread::hardware_concurrency());
  engine_ = std::make_unique<engine::AsyncEngine>(
      options_.partitions, workers, *store_, committer_.get(), *clock_,
      [this](const engine::Task& t, State s, int64_t stored_ns) {
        OnStored(t.id(), s, t.attempt, t.submitted_ns, stored_ns, t.type->name, t.run_us);
      },
      options_.on_lease_expired, options_.lease_drain_wait, options_.on_leased);
  clock_target_->store(engine_.get());
  clock_->Subscribe([target = clock_target_] {
    if (engine::AsyncEngine* e = target->load()) e->WakeTicker();
  });
  if (Status s = Recover(); !s.ok()) {
    phase_.store(Phase::kStopped);
    return s;
  }
  engine_->Start();
  return Status::Ok();
}

Status Bus::Impl::Recover() {
  auto unfinished = store_->Unfinished();
  if (!unfinished) return unfinished.error();
  const int64_t now = clock_->NowMicros();
  for (Record& rec : *unfinished) {
    auto found = TypeOf(rec);
    if (!found) continue;  // stays stored; it runs once its type is registered again
    engine::TypeEntry* type = *found;
    State state = rec.state;
    if (state == State::kRunning) {
      // Its lease died with the process that ran it; the attempt counts.
      Transition t{.id = rec.command.id,
                   .from = state,
                   .to = State::kPending,
                   .time_us = now,
                   .attempt = rec.attempt,
                   .message = "lease lost: re-queued at start-up"};
      if (Status s = WriteOne(std::move(t)); !s.ok()) return s;
      state = State::kPending;
    }
    if (!rec.command.idempotency_key.empty()) {
      // A client whose submit was stored but whose answer the crash lost retries with the
      // same key: it must get this command, not a second one. Its window runs from the
      // original submit.
      (void)dedup_.ClaimOrGet(rec.command.idempotency_key, rec.command.id,
                              rec.command.created_at_us);
    }
    auto cmd = std::make_shared<const Command>(std::move(rec.command));
    const bool ordered = type->options.ordered;
    auto* task = new engine::Task{.command = cmd,
                                  .type = type,
                                  .partition = engine_->PartitionOf(*cmd, ordered),
                                  .attempt = rec.attempt,
                                  .budget_start = 0,
                                  .max_attempts = engine::MaxAttempts(*cmd, *type),
                                  .state = state,
                                  .submitted_ns = SteadyNowNs()};
    task->due_us = state == State::kScheduled ? cmd->not_before_us
                   : state == State::kFailed  ? rec.next_attempt_us
                                              : 0;
    engine_->partition(task->partition).depth.fetch_add(1);
    engine_->Enqueue(task);
  }
  return Status::Ok();
}

Result<engine::TypeEntry*> Bus::Impl::TypeOf(const Record& record) const {
  engine::TypeEntry* type = registry_.Find(record.command.type);
  if (!type) {
    return Error(Status::FailedPrecondition(
        fmt::format("command type \"{}\" is not registered", record.command.type)));
  }
  return type;
}

void Bus::Impl::WaitForSubmits() {
  while (submits_in_flight_.load() > 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

StopReport Bus::Impl::Stop(StopMode mode) {
  Phase expected = Phase::kRunning;
  if (!phase_.compare_exchange_strong(expected, Phase::kStopping)) return {};
  StopReport report;
  if (mode == StopMode::kNow) stop_.request_stop();
  if (engine_) {
    // A submit waiting for room counts as in flight; the room may never come (the
    // partition holds scheduled or parked commands): it is refused instead.
    engine_->RefuseWaits();
    if (mode == StopMode::kDrain) WaitForSubmits();
    report = engine_->Stop(mode);
    WaitForSubmits();
    for (CommandId id : engine_->TakeLeft()) report.left.push_back(id);
    clock_target_->store(nullptr);
  } else {
    WaitForSubmits();
  }
  report.completed_while_stopping = completed_while_stopping_.load();
  phase_.store(Phase::kStopped);
  return report;
}

void Bus::Impl::OnStored(CommandId id, State state, uint32_t attempt, int64_t submitted_ns,
                         int64_t stored_ns, std::string_view type, int64_t run_us) {
  if (options_.on_finished) {
    options_.on_finished(
        Completion{id, state, attempt, submitted_ns, stored_ns, type, run_us * 1000});
  }
  if (state == State::kFailed) return;
  waiters_.Notify(id);
  if (phase_.load(std::memory_order_relaxed) == Phase::kStopping) {
    completed_while_stopping_.fetch_add(1);
  }
}

Result<std::shared_ptr<const Command>> Bus::Impl::Admit(Command& command, engine::TypeEntry** type,
                                                        CommandId* existing) {
  const int64_t now = clock_->NowMicros();
  *type = registry_.Find(command.type);
  if (Status s = engine::ValidateCommand(command, *type, options_, now); !s.ok()) return Error(s);
  const CommandId id = ids_.NextAt(now);
  if (!command.idempotency_key.empty()) {
    if (auto prev = dedup_.ClaimOrGet(command.idempotency_key, id, now)) {
      *existing = *prev;
      return nullptr;
    }
  }
  command.id = id;
  command.created_at_us = now;
  return std::make_shared<const Command>(std::move(command));
}

Result<CommandId> Bus::Impl::Submit(Command&& command) {
  InFlight guard(submits_in_flight_);
  if (phase_.load() != Phase::kRunning) {
    return Error(Status::Unavailable("the bus is not running (call Start(); or it has stopped)"));
  }
  engine::TypeEntry* type = nullptr;
  CommandId existing;
  auto cmd = Admit(command, &type, &existing);
  if (!cmd) return Error(cmd.error());
  if (!*cmd) return existing;  // an idempotent repeat
  if (options_.mode == Mode::kSync) return SubmitSync(std::move(*cmd), *type);
  // Enqueue does not call back into user code, so the thread's scratch cannot be reentered.
  thread_local std::vector<std::pair<std::shared_ptr<const Command>, engine::TypeEntry*>> one;
  thread_local std::vector<Result<CommandId>*> one_result;
  Result<CommandId> result = CommandId();
  one.clear();
  one.emplace_back(std::move(*cmd), type);
  one_result.assign(1, &result);
  Enqueue(one, one_result, BackpressureRoom());
  one.clear();
  return result;
}

Result<CommandId> Bus::Impl::SubmitSync(std::shared_ptr<const Command> cmd,
                                        engine::TypeEntry& type) {
  const CommandId id = cmd->id;
  auto done = RunSync(cmd, type, 1, State::kNone, true);
  if (done) return id;
  if (!cmd->idempotency_key.empty()) dedup_.Release(cmd->idempotency_key, id);
  return Error(done.error());
}

std::vector<Result<CommandId>> Bus::Impl::SubmitBatch(std::vector<Command> commands) {
  InFlight guard(submits_in_flight_);
  std::vector<Result<CommandId>> results;
  SubmitAll(commands, BackpressureRoom(), results);
  return results;
}

std::optional<std::vector<Result<CommandId>>> Bus::Impl::TrySubmitBatch(
    std::vector<Command>& commands) {
  if (options_.mode != Mode::kAsync) return std::nullopt;  // it waits for a disk or a handler
  InFlight guard(submits_in_flight_);
  std::vector<Result<CommandId>> results;
  if (!SubmitAll(commands, Room::kAllOrNone, results)) return std::nullopt;
  return results;
}

bool Bus::Impl::SubmitAll(std::vector<Command>& commands, Room room,
                          std::vector<Result<CommandId>>& results) {
  results.assign(commands.size(), CommandId());
  if (phase_.load() != Phase::kRunning) {
    for (auto& r : results) {
      r = Error(Status::Unavailable("the bus is not running (call Start(); or it has stopped)"));
    }
    return true;
  }
  std::vector<std::pair<std::shared_ptr<const Command>, engine::TypeEntry*>> admitted;
  std::vector<Result<CommandId>*> admitted_results;
  std::vector<size_t> admitted_index;  // where each admitted command came from
  for (size_t i = 0; i < commands.size(); ++i) {
    engine::TypeEntry* type = nullptr;
    CommandId existing;
    auto cmd = Admit(commands[i], &type, &existing);
    if (!cmd) {
      results[i] = Error(cmd.error());
    } else if (!*cmd) {
      results[i] = existing;  // an idempotent repeat
    } else if (options_.mode == Mode::kSync) {
      results[i] = SubmitSync(std::move(*cmd), *type);
    } else {
      admitted.emplace_back(std::move(*cmd), type);
      admitted_results.push_back(&results[i]);
      admitted_index.push_back(i);
    }
  }
  if (admitted.empty() || Enqueue(admitted, admitted_results, room)) return true;
  // A full partition refused a non-blocking submit: undo the admissions, give the
  // commands back as they came (the rare path, so a copy), and let the caller block.
  for (size_t k = 0; k < admitted.size(); ++k) {
    const Command& cmd = *admitted[k].first;
    if (!cmd.idempotency_key.empty()) dedup_.Release(cmd.idempotency_key, cmd.id);
    Command& back = commands[admitted_index[k]] = cmd;
    back.id = CommandId();  // Admit gave these; the next Admit gives them again
    back.created_at_us = 0;
  }
  return false;
}

Status Bus::Impl::WriteBatch(StoreBatch& batch) {
  if (committer_) return committer_->Commit(batch);
  Status s = store_->Write(batch, WriteOptions{});
  batch.Clear();
  return s;
}

bool Bus::Impl::Enqueue(
    std::vector<std::pair<std::shared_ptr<const Command>, engine::TypeEntry*>>& cmds,
    std::vector<Result<CommandId>*>& results, Room room) {
  thread_local StoreBatch batch;
  // One reading for the whole call: its commands were submitted together (submit->done
  // latency, and the age of a partition's oldest ready command). Read again after waiting
  // for room, so that the wait is not counted as queueing.
  int64_t submitted_ns = SteadyNowNs();
  // Reserved and not yet stored: tasks[j] is cmds[first + j] (null: it failed).
  std::vector<engine::Task*> tasks;
  tasks.reserve(cmds.size());
  size_t first = 0;
  for (size_t i = 0; i < cmds.size(); ++i) {
    auto& [cmd, type] = cmds[i];
    const uint32_t index = engine_->PartitionOf(*cmd, type->options.ordered);
    engine::Partition& p = engine_->partition(index);
    Status s = engine_->Reserve(p, options_.queue_capacity, /*block=*/false);
    if (s.code() == StatusCode::kResourceExhausted && room == Room::kWait) {
      // What this batch reserved may be what fills the partition: store and queue it
      // first, so that the wait is for the workers and never for the batch itself.
      StoreAndQueue(batch, tasks, std::span(results).subspan(first, i - first));
      tasks.clear();
      first = i;
      s = engine_->Reserve(p, options_.queue_capacity, /*block=*/true);
      submitted_ns = SteadyNowNs();
    }
    if (!s.ok()) {
      if (room == Room::kAllOrNone) {
        // Give back the room taken so far; nothing was written yet.
        for (engine::Task* task : tasks) {
          if (!task) continue;
          engine_->partition(task->partition).ReleaseOne();
          delete task;
        }
        batch.Clear();
        return false;
      }
      *results[i] = Error(s);
      // Refused: its idempotency key must not answer a retry with an id never stored.
      if (!cmd->idempotency_key.empty()) dedup_.Release(cmd->idempotency_key, cmd->id);
      tasks.push_back(nullptr);
      continue;
    }
    const State initial =
        cmd->not_before_us > cmd->created_at_us ? State::kScheduled : State::kPending;
    batch.Insert(cmd, initial, cmd->created_at_us);
    auto* task = new engine::Task{.command = cmd,
                                  .type = type,
                                  .partition = index,
                                  .max_attempts = engine::MaxAttempts(*cmd, *type),
                                  .state = initial,
                                  .submitted_ns = submitted_ns};
    task->due_us = initial == State::kScheduled ? cmd->not_before_us : 0;
    tasks.push_back(task);
  }
  StoreAndQueue(batch, tasks, std::span(results).subspan(first));
  return true;
}

void Bus::Impl::StoreAndQueue(StoreBatch& batch, std::span<engine::Task*> tasks,
                              std::span<Result<CommandId>*> results) {
  const Status w = batch.empty() ? Status::Ok() : WriteBatch(batch);
  batch.Clear();
  size_t queued = 0;  // the stored tasks, moved to the front of `tasks`
  for (size_t i = 0; i < tasks.size(); ++i) {
    engine::Task* task = tasks[i];
    if (!task) continue;
    if (!w.ok()) {
      *results[i] = Error(w);
      engine_->partition(task->partition).ReleaseOne();
      if (!task->command->idempotency_key.empty()) {
        dedup_.Release(task->command->idempotency_key, task->id());
      }
      delete task;
      continue;
    }
    *results[i] = task->id();  // before the task is queued: a worker may then free it
    tasks[queued++] = task;
  }
  // All at once: each partition is then seen to once for all of its new tasks.
  engine_->Enqueue(tasks.first(queued));
}

Result<std::string> Bus::Impl::Execute(Command command, std::chrono::milliseconds timeout) {
  auto id = Submit(std::move(command));
  if (!id) return Error(id.error());
  auto rec = Wait(*id, timeout);
  if (!rec) return Error(rec.error());
  return ResultOf(*rec);
}

Result<std::string> Bus::Impl::ResultOf(const Record& rec) const {
  const std::string id = rec.command.id.ToString();
  switch (rec.state) {
    case State::kSucceeded:
      return rec.result;
    case State::kDead:
      return Error(Status(
          StatusCode::kFailedPrecondition,
          fmt::format("command {} is dead after {} attempts: {}", id, rec.attempt, rec.error)));
    case State::kCancelled:
      return Error(Status(StatusCode::kCancelled, fmt::format("command {} was cancelled", id)));
    case State::kUndone:
      return Error(Status::FailedPrecondition(fmt::format("command {} was undone", id)));
    default:
      return Error(Status::DeadlineExceeded(
          fmt::format("command {} is still {}", id, StateName(rec.state))));
  }
}

Result<Record> Bus::Impl::Wait(CommandId id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto ticket = waiters_.Add(id);
  auto rec = store_->Get(id);
  if (!rec || IsTerminal(rec->state)) {
    waiters_.Remove(id, ticket);
    return rec;
  }
  waiters_.Wait(id, ticket, deadline);
  return Get(id);
}

Result<Record> Bus::Impl::Get(CommandId id) const {
  if (cache_) {
    if (auto hit = cache_->Get(id)) return *std::move(hit);
  }
  auto rec = store_->Get(id);
  if (rec && cache_ && IsTerminal(rec->state)) cache_->Put(*rec);
  if (rec && !IsTerminal(rec->state)) ShowLease(*rec);
  return rec;
}

Result<ListPage> Bus::Impl::List(const ListQuery& query) const { return store_->List(query); }

Result<std::vector<AuditEvent>> Bus::Impl::Audit(CommandId id) const { return store_->Audit(id); }

Status Bus::Impl::WriteOne(Transition transition) {
  StoreBatch batch;
  batch.Apply(std::move(transition));
  // Admin changes (cancel, undo, re-drive, recovery) are acknowledged: durable mode syncs.
  return store_->Write(batch, WriteOptions{.sync = options_.mode == Mode::kDurable});
}

}  // namespace cmdq
