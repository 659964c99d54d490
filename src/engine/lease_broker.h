// LeaseBroker: the commands of remote types, between the partition that offers them and
// the remote worker that runs them.
//
// A partition's owner offers a runnable task of a remote type. It waits here, still the
// head of its key, until a worker leases it. The worker's outcome (or the lease's expiry)
// is stored, many commands in one write, and handed back to the partition's owner, which
// moves the key on or waits for the retry. So per-key order, retries, backoff and dead
// work as they do for in-process handlers.
//
// A lease lives in memory only: `running` is stored together with the outcome, in the
// same write, so a lease costs no store write of its own. After a crash a leased command
// is simply pending again (its lost attempt is not counted).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cmdq/bus.h"
#include "engine/batch_runner.h"
#include "engine/task.h"

namespace cmdq::engine {

class LeaseBroker {
 public:
  // A task whose outcome is stored: `state` is succeeded, failed (retry at `due_us`),
  // dead or... as BatchRunner would settle it.
  struct Settled {
    Task* task;
    State state;
    int64_t due_us;
  };
  // Hands the tasks one store write settled back to their partitions' owners.
  using SettleFn = std::function<void(std::span<const Settled> settled)>;
  using ExpiredFn = std::function<void(std::string_view type)>;
  // BusOptions::on_leased: called under the broker's lock.
  using LeasedFn = std::function<void(std::string_view type, int64_t waited_ns)>;

  LeaseBroker(RunnerEnv env, SettleFn settle, ExpiredFn on_expired, LeasedFn on_leased = {});
  ~LeaseBroker();

  // --- the partition's owner ---
  // Takes a runnable task of a remote type; it waits for a lease.
  void Offer(Task* task) { OfferAll(std::span<Task* const>(&task, 1)); }
  // The same for many: one lock for all, and as many waiting listeners woken as tasks.
  void OfferAll(std::span<Task* const> tasks);

  // --- any thread ---
  struct Ask {
    std::vector<const TypeEntry*> types;
    uint32_t max = 1;
    std::string worker;
    int64_t duration_us = 0;
  };
  // Leases up to ask.max offered tasks of ask.types, waiting until `deadline` for the
  // first. kUnavailable once leasing stopped.
  Result<std::vector<LeaseGrant>> Lease(const Ask& ask,
                                        std::chrono::steady_clock::time_point deadline);
  // Calls `ready` once when a task of one of `types` is offered (at once if one waits)
  // or leasing stops. Returns 0 when it was called at once. An offer wakes one listener
  // (the longest waiting); `ready` returning false means nobody was there, and the next
  // is woken.
  uint64_t OnLeasable(std::vector<const TypeEntry*> types, std::function<bool()> ready);
  // Forgets a listener. If it was woken and tasks of its types are still offered (it did
  // not take them all), the wake-up passes to another listener.
  void CancelLeasable(uint64_t ticket);
  Result<int64_t> Heartbeat(std::string_view token, int64_t extend_us);
  std::vector<Status> Finish(std::vector<RemoteOutcome> outcomes);
  // Who holds `id` and until when, if it is leased now.
  bool Holder(CommandId id, std::string* worker, int64_t* expires_us, uint32_t* attempt);
  // Takes back an offered task that no worker leased yet (a cancel); null if `id` is not
  // offered (leased, or not here).
  Task* Withdraw(CommandId id);
  // Ticker: expires the leases whose deadline has passed (cheap when none has).
  void ExpireDue(int64_t now_us);

  // --- stopping ---
  // No more leases; long-polls are answered. Leased tasks may still be finished.
  void StopLeasing();
  // Waits until no task is leased, or `deadline`.
  void WaitLeased(std::chrono::steady_clock::time_point deadline);
  // Every task held (offered or leased), once no outcome is being stored; the broker
  // forgets them.
  std::vector<Task*> TakeAll();

 private:
  struct Held {
    Task* task = nullptr;
    std::string token;
    std::string worker;
    uint32_t attempt = 0;
    int64_t start_us = 0;
    int64_t deadline_us = 0;
    int64_t duration_us = 0;
  };
  // A held lease's end: the worker's outcome, or its expiry.
  struct Ended {
    Held held;
    Result<std::string> result;
    bool worker_error = false;  // `result` carries the worker's own error text
  };
  struct Listener {
    uint64_t ticket;
    std::vector<const TypeEntry*> types;
    std::function<bool()> ready;
  };

  std::vector<LeaseGrant> TakeLocked(const Ask& ask, int64_t now_us);
  bool OfferedLocked(const TypeEntry* type) const;
  bool AnyOfferedLocked(const std::vector<const TypeEntry*>& types) const;
  // Wakes the longest-waiting listener of `type` (any of `types`, when given several),
  // and the next while one turns out to be gone. Takes the lock itself. False when no
  // listener was left to wake.
  bool WakeOne(const std::vector<const TypeEntry*>& types);
  void RecomputeExpiryLocked();
  // Stores the ends (one write), then tells the bus and hands the tasks back.
  Status StoreEnds(std::vector<Ended>& ended, int64_t end_us);
  void EndFinishing();

  RunnerEnv env_;
  SettleFn settle_;
  ExpiredFn on_expired_;
  LeasedFn on_leased_;
  std::mutex mu_;
  std::condition_variable offered_cv_;
  std::condition_variable leased_cv_;
  std::unordered_map<const TypeEntry*, std::deque<Task*>> offered_;
  std::unordered_map<uint64_t, Held> leased_;  // by command id
  std::vector<Listener> listeners_;
  // Listeners woken and not yet cancelled: their types, to pass a wake-up on.
  std::unordered_map<uint64_t, std::vector<const TypeEntry*>> woken_;
  uint64_t next_ticket_ = 1;
  uint64_t next_seq_ = 1;
  bool leasing_ = true;
  // Finish/ExpireDue calls between taking leases out and settling their tasks: TakeAll
  // waits for them, so it never frees a task that is being stored.
  int finishing_ = 0;
  std::atomic<int64_t> next_expiry_us_{INT64_MAX};
};

}  // namespace cmdq::engine
