// Requests about one existing command: cancel, undo, re-drive. Each checks the stored
// state first and refuses, naming it, when the request does not fit; in async mode the
// change is made by the owner of the command's partition, so it never races a run.
#include <fmt/format.h>

#include "engine/attempt.h"
#include "engine/batch_runner.h"
#include "engine/bus_impl.h"
#include "engine/steady_now.h"

namespace cmdq {
namespace {

bool Cancellable(State s) {
  return s == State::kPending || s == State::kScheduled || s == State::kFailed;
}

Status Refuse(const char* what, const Record& rec, const char* only) {
  return Status::FailedPrecondition(fmt::format("cannot {} command {}: it is {}; only {}", what,
                                                rec.command.id.ToString(), StateName(rec.state),
                                                only));
}

}  // namespace

Status Bus::Impl::Cancel(CommandId id) {
  auto rec = store_->Get(id);
  if (!rec) return rec.error();
  if (!Cancellable(rec->state)) {
    return Refuse("cancel", *rec, "pending, scheduled or retry-waiting commands can be cancelled");
  }
  auto found = TypeOf(*rec);
  if (!engine_ || !found) {
    // Sync mode (a caller waits for the retry or the schedule) or an unregistered type.
    return WriteOne(Transition{.id = id,
                               .from = rec->state,
                               .to = State::kCancelled,
                               .time_us = clock_->NowMicros(),
                               .attempt = rec->attempt,
                               .message = "cancelled by request"});
  }
  const bool ordered = (*found)->options.ordered;
  const uint32_t index = engine_->PartitionOf(rec->command, ordered);
  return engine_->RunOnOwner(index, [&]() -> Status {
    engine::Partition& p = engine_->partition(index);
    engine::Task* task = p.Remove(id, rec->command.key, ordered);
    if (!task) {
      // A remote type's command waiting for a worker is the broker's until leased.
      task = engine_->broker().Withdraw(id);
      if (task) p.ForgetWithdrawn(task);
    }
    if (!task) {
      return Status::FailedPrecondition(
          fmt::format("cannot cancel command {}: it is no longer waiting (running or finished)",
                      id.ToString()));
    }
    Status s = WriteOne(Transition{.id = id,
                                   .from = task->state,
                                   .to = State::kCancelled,
                                   .time_us = clock_->NowMicros(),
                                   .attempt = task->attempt,
                                   .message = "cancelled by request"});
    if (!s.ok()) {
      p.Admit(task, clock_->NowMicros());
      return s;
    }
    OnStored(id, State::kCancelled, task->attempt, task->submitted_ns, engine::SteadyNowNs(),
             task->type->name, /*run_us=*/0);
    p.ReleaseOne();
    delete task;
    return Status::Ok();
  });
}

Status Bus::Impl::Undo(CommandId id) {
  auto rec = store_->Get(id);
  if (!rec) return rec.error();
  if (rec->state != State::kSucceeded)
    return Refuse("undo", *rec, "succeeded commands can be undone");
  auto found = TypeOf(*rec);
  if (!found) return found.error();
  engine::TypeEntry* type = *found;
  if (!type->handler.undo) {
    return Status::FailedPrecondition(
        fmt::format("command type \"{}\" has no undo", rec->command.type));
  }
  {
    std::lock_guard lock(undo_mu_);
    if (!undoing_.insert(id.value()).second) {
      return Status::FailedPrecondition(
          fmt::format("an undo of command {} is in progress", id.ToString()));
    }
  }
  // Another undo may have finished between the read above and the claim: look again
  // while holding the claim, so that the undo handler runs once.
  rec = store_->Get(id);
  if (!rec || rec->state != State::kSucceeded) {
    std::lock_guard lock(undo_mu_);
    undoing_.erase(id.value());
    return rec ? Refuse("undo", *rec, "succeeded commands can be undone") : rec.error();
  }
  const int64_t start = clock_->NowMicros();
  HandlerContext ctx(rec->command, rec->attempt, engine::Deadline(rec->command, *type, start),
                     stop_.get_token(), clock_);
  Status s;
  try {
    s = type->handler.undo(ctx, rec->result);
  } catch (const std::exception& e) {
    s = Status::Internal(fmt::format("undo threw: {}", e.what()));
  }
  if (s.ok()) {
    s = WriteOne(Transition{.id = id,
                            .from = State::kSucceeded,
                            .to = State::kUndone,
                            .time_us = clock_->NowMicros(),
                            .attempt = rec->attempt,
                            .message = "undone by request"});
  }
  if (cache_) cache_->Erase(id);
  std::lock_guard lock(undo_mu_);
  undoing_.erase(id.value());
  return s;
}

Status Bus::Impl::Redrive(CommandId id) {
  auto rec = store_->Get(id);
  if (!rec) return rec.error();
  if (rec->state != State::kDead) return Refuse("re-drive", *rec, "dead commands can be re-driven");
  auto found = TypeOf(*rec);
  if (!found) return found.error();
  engine::TypeEntry* type = *found;
  if (cache_) cache_->Erase(id);
  auto cmd = std::make_shared<const Command>(rec->command);
  if (!engine_) {
    if (Status s = WriteOne(Transition{.id = id,
                                       .from = State::kDead,
                                       .to = State::kPending,
                                       .time_us = clock_->NowMicros(),
                                       .attempt = rec->attempt,
                                       .message = "re-driven by request"});
        !s.ok()) {
      return s;
    }
    auto done = RunSync(cmd, *type, rec->attempt + 1, State::kPending, false);
    return done ? Status::Ok() : done.error();
  }
  const bool ordered = type->options.ordered;
  const uint32_t index = engine_->PartitionOf(*cmd, ordered);
  return engine_->RunOnOwner(index, [&]() -> Status {
    Status s = WriteOne(Transition{.id = id,
                                   .from = State::kDead,
                                   .to = State::kPending,
                                   .time_us = clock_->NowMicros(),
                                   .attempt = rec->attempt,
                                   .message = "re-driven by request"});
    if (!s.ok()) return s;
    engine::Partition& p = engine_->partition(index);
    engine::Task* task = ordered ? p.Unpark(id, cmd->key) : nullptr;
    if (!task) {
      task = new engine::Task{.command = cmd,
                              .type = type,
                              .partition = index,
                              .attempt = rec->attempt,
                              .max_attempts = engine::MaxAttempts(*cmd, *type)};
      p.depth.fetch_add(1);
      p.Admit(task, clock_->NowMicros());
    }
    task->state = State::kPending;
    task->budget_start = task->attempt;
    return Status::Ok();
  });
}

}  // namespace cmdq
