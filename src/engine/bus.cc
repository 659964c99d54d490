// The public face of the Bus: checks the options and forwards to Bus::Impl.
#include "cmdq/bus.h"

#include <fmt/format.h>

#include "engine/bus_impl.h"

namespace cmdq {
namespace {

Status ValidateOptions(const BusOptions& o, const BusDeps& deps) {
  if (!deps.store) return Status::InvalidArgument("store", "a store is required");
  if (!deps.clock) return Status::InvalidArgument("clock", "a clock is required");
  if (o.partitions == 0 || o.partitions > 65'536) {
    return Status::InvalidArgument("partitions", "partitions must be in [1, 65536]");
  }
  if (o.workers > 1024) return Status::InvalidArgument("workers", "workers must be <= 1024");
  if (o.queue_capacity == 0) {
    return Status::InvalidArgument("queue_capacity", "queue_capacity must be at least 1");
  }
  if (o.max_payload_bytes == 0) {
    return Status::InvalidArgument("max_payload_bytes", "max_payload_bytes must be at least 1");
  }
  if (o.lease_duration.count() <= 0) {
    return Status::InvalidArgument("lease_duration", "lease_duration must be positive");
  }
  if (o.lease_drain_wait.count() < 0) {
    return Status::InvalidArgument("lease_drain_wait", "lease_drain_wait must be >= 0");
  }
  if (o.node_id > CommandId::kMaxNode) {
    return Status::InvalidArgument("node_id",
                                   fmt::format("node_id must be <= {}", CommandId::kMaxNode));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Bus>> Bus::Create(BusOptions options, BusDeps deps) {
  if (Status s = ValidateOptions(options, deps); !s.ok()) return Error(s);
  return std::unique_ptr<Bus>(new Bus(std::make_unique<Impl>(std::move(options), std::move(deps))));
}

Bus::Bus(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Bus::~Bus() = default;

Status Bus::Register(std::string type, Handler handler, TypeOptions options) {
  return impl_->Register(std::move(type), std::move(handler), options);
}
Status Bus::RegisterRemote(std::string type, TypeOptions options) {
  return impl_->RegisterRemote(std::move(type), options);
}
Status Bus::Start() { return impl_->Start(); }
StopReport Bus::Stop(StopMode mode) { return impl_->Stop(mode); }
Result<CommandId> Bus::Submit(Command command) { return impl_->Submit(std::move(command)); }
std::vector<Result<CommandId>> Bus::SubmitBatch(std::vector<Command> commands) {
  return impl_->SubmitBatch(std::move(commands));
}
std::optional<std::vector<Result<CommandId>>> Bus::TrySubmitBatch(std::vector<Command>& commands) {
  return impl_->TrySubmitBatch(commands);
}
Mode Bus::mode() const { return impl_->mode(); }
Result<std::string> Bus::Execute(Command command, std::chrono::milliseconds timeout) {
  return impl_->Execute(std::move(command), timeout);
}
Result<Record> Bus::Wait(CommandId id, std::chrono::milliseconds timeout) {
  return impl_->Wait(id, timeout);
}
Result<Record> Bus::Get(CommandId id) const { return impl_->Get(id); }
Result<ListPage> Bus::List(const ListQuery& query) const { return impl_->List(query); }
Result<std::vector<AuditEvent>> Bus::Audit(CommandId id) const { return impl_->Audit(id); }
Status Bus::Cancel(CommandId id) { return impl_->Cancel(id); }
Status Bus::Undo(CommandId id) { return impl_->Undo(id); }
Status Bus::Redrive(CommandId id) { return impl_->Redrive(id); }
uint64_t Bus::Watch(CommandId id, std::function<void()> done) {
  return impl_->Watch(id, std::move(done));
}
void Bus::Unwatch(CommandId id, uint64_t ticket) { impl_->Unwatch(id, ticket); }
Result<std::vector<LeaseGrant>> Bus::Lease(const LeaseAsk& ask, std::chrono::milliseconds wait) {
  return impl_->Lease(ask, wait);
}
uint64_t Bus::OnLeasable(const std::vector<std::string>& types, std::function<bool()> ready) {
  return impl_->OnLeasable(types, std::move(ready));
}
void Bus::CancelLeasable(uint64_t ticket) { impl_->CancelLeasable(ticket); }
Result<int64_t> Bus::Heartbeat(std::string_view token, std::chrono::milliseconds extend) {
  return impl_->Heartbeat(token, extend);
}
std::vector<Status> Bus::Finish(std::vector<RemoteOutcome> outcomes) {
  return impl_->Finish(std::move(outcomes));
}
std::vector<PartitionStats> Bus::Partitions() const { return impl_->Partitions(); }
uint64_t Bus::QueueDepth() const { return impl_->QueueDepth(); }
uint64_t Bus::SyncedWrites() const { return impl_->SyncedWrites(); }
uint64_t Bus::CommittedBatches() const { return impl_->CommittedBatches(); }

}  // namespace cmdq
