// Peer: a queueing system that the W1 driver (load.h) runs against through that system's
// own C client, as its users would. A peer hands out producer and consumer connections;
// the driver runs 2 of each on their own threads (WORKLOADS.md, W1; PEERS.md's settings).
//
// Thread-safety: a Peer is used from one thread to set up; each Producer and Consumer is
// used by one thread at a time (one connection each, as the C clients require).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::peers {

enum class Durability { kD0, kD1 };

struct PeerOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  Durability durability = Durability::kD0;
  // The queue, stream, tube or table of this run: a name of its own per run, so that what
  // one run left behind never reaches the next.
  std::string queue = "w1";
  // Producers: commands per write. Consumers: commands per take (and per ack).
  int batch = 64;
  // Producers: submits sent but not yet confirmed, per connection, at most.
  // Consumers: deliveries the server may push ahead (prefetch), where the system has one.
  int window = 256;
};

// One producer connection. Send() pipelines: it returns once the messages are written and
// at most `window` of this connection's messages wait for the system's confirmation.
class Producer {
 public:
  virtual ~Producer() = default;
  virtual Status Send(std::span<const std::string> messages) = 0;
  // Waits until every message sent is confirmed.
  virtual Status Drain() = 0;
};

// One consumer connection. TakeBatch() takes up to `batch` commands (waiting ~100 ms at
// most when there are none), acknowledges them, and calls on_done(body) for each once the
// acknowledgement is done as far as this system's client can tell (the reply arrived;
// for AMQP, which does not confirm acks, once it is written). Returns how many it took.
class Consumer {
 public:
  using OnDone = std::function<void(std::string_view body)>;
  virtual ~Consumer() = default;
  virtual Result<size_t> TakeBatch(const OnDone& on_done) = 0;
};

class Peer {
 public:
  virtual ~Peer() = default;
  // Creates this run's queue (stream, table, ...) with the durability of the options.
  virtual Status Prepare() = 0;
  virtual Result<std::unique_ptr<Producer>> NewProducer() = 0;
  virtual Result<std::unique_ptr<Consumer>> NewConsumer() = 0;
  // What the run used, for the result's "mode": e.g. "quorum queue, persistent, confirms".
  virtual std::string Settings() const = 0;
};

// The peers; names as `cmdq_peer_bench --peer` takes them.
Result<std::unique_ptr<Peer>> MakeBeanstalkdPeer(const PeerOptions& options);
Result<std::unique_ptr<Peer>> MakeRedisPeer(const PeerOptions& options);
Result<std::unique_ptr<Peer>> MakeRabbitMqPeer(const PeerOptions& options);
Result<std::unique_ptr<Peer>> MakePostgresPeer(const PeerOptions& options);
Result<std::unique_ptr<Peer>> MakeNatsPeer(const PeerOptions& options);

}  // namespace cmdq::peers
