// RabbitMQ through librabbitmq (AMQP 0-9-1), one queue on the default exchange.
// D0: a transient classic queue and transient messages. D1: a durable quorum queue and
// persistent messages. Producers use publisher confirms in both modes (the window of
// unconfirmed publishes needs them); consumers take up to `batch` deliveries under a
// prefetch of `window` and ack them with one multiple-ack. AMQP does not confirm acks:
// done = the ack written to the socket.
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "peer.h"
#include "pipelined_producer.h"

namespace cmdq::peers {
namespace {

constexpr amqp_channel_t kChannel = 1;

struct ConnectionClose {
  void operator()(amqp_connection_state_t_* connection) const {
    amqp_channel_close(connection, kChannel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(connection, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(connection);
  }
};
using ConnectionPtr = std::unique_ptr<amqp_connection_state_t_, ConnectionClose>;

Status ReplyStatus(amqp_connection_state_t connection, std::string_view what) {
  const amqp_rpc_reply_t reply = amqp_get_rpc_reply(connection);
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return Status::Ok();
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
    return Status::Unavailable("amqp " + std::string(what) + ": " +
                               amqp_error_string2(reply.library_error));
  }
  return Status::Internal("amqp " + std::string(what) + ": server closed the channel");
}

Result<ConnectionPtr> Connect(const PeerOptions& options) {
  amqp_connection_state_t raw = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(raw);
  if (socket == nullptr || amqp_socket_open(socket, options.host.c_str(), options.port) != 0) {
    amqp_destroy_connection(raw);
    return Error(Status::Unavailable("amqp: cannot connect to " + options.host + ":" +
                                     std::to_string(options.port)));
  }
  const amqp_rpc_reply_t login =
      amqp_login(raw, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    amqp_destroy_connection(raw);
    return Error(Status::Unavailable("amqp: login failed"));
  }
  ConnectionPtr connection(raw);
  amqp_channel_open(raw, kChannel);
  if (Status status = ReplyStatus(raw, "channel.open"); !status.ok()) return Error(status);
  return connection;
}

class RabbitMqProducer final : public PipelinedProducer {
 public:
  RabbitMqProducer(ConnectionPtr connection, const PeerOptions& options)
      : PipelinedProducer(options.window), connection_(std::move(connection)), options_(options) {}

 private:
  Status Write(std::span<const std::string> messages) override {
    amqp_basic_properties_t properties{};
    properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    properties.delivery_mode = options_.durability == Durability::kD1 ? 2 : 1;
    const amqp_bytes_t queue = amqp_cstring_bytes(options_.queue.c_str());
    for (const std::string& body : messages) {
      const amqp_bytes_t bytes{.len = body.size(), .bytes = const_cast<char*>(body.data())};
      if (const int rc = amqp_basic_publish(connection_.get(), kChannel, amqp_empty_bytes, queue, 0,
                                            0, &properties, bytes);
          rc != AMQP_STATUS_OK) {
        return Status::Unavailable(std::string("amqp publish: ") + amqp_error_string2(rc));
      }
    }
    return Status::Ok();
  }

  Result<uint64_t> ReadConfirmation() override {
    amqp_frame_t frame;
    if (const int rc = amqp_simple_wait_frame(connection_.get(), &frame); rc != AMQP_STATUS_OK) {
      return Error(Status::Unavailable(std::string("amqp confirm: ") + amqp_error_string2(rc)));
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) return 0;
    if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
      return Error(Status::Internal("amqp: the broker nacked a publish"));
    }
    if (frame.payload.method.id != AMQP_BASIC_ACK_METHOD) return 0;
    const auto* ack = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
    // Confirms of one channel come in order; delivery tags count from 1.
    const uint64_t upto = ack->multiple ? ack->delivery_tag : confirmed_ + 1;
    const uint64_t confirmed = upto > confirmed_ ? upto - confirmed_ : 0;
    confirmed_ = std::max(confirmed_, upto);
    amqp_maybe_release_buffers(connection_.get());
    return confirmed;
  }

  ConnectionPtr connection_;
  const PeerOptions& options_;
  uint64_t confirmed_ = 0;  // the highest delivery tag confirmed
};

class RabbitMqConsumer final : public Consumer {
 public:
  RabbitMqConsumer(ConnectionPtr connection, const PeerOptions& options)
      : connection_(std::move(connection)), options_(options) {}

  Result<size_t> TakeBatch(const OnDone& on_done) override {
    bodies_.clear();
    uint64_t last_tag = 0;
    timeval wait{.tv_sec = 0, .tv_usec = 100'000};
    timeval* timeout = &wait;
    while (bodies_.size() < static_cast<size_t>(options_.batch)) {
      if (!bodies_.empty() && !amqp_data_in_buffer(connection_.get())) break;
      amqp_envelope_t envelope;
      amqp_maybe_release_buffers(connection_.get());
      const amqp_rpc_reply_t reply = amqp_consume_message(connection_.get(), &envelope, timeout, 0);
      if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
          reply.library_error == AMQP_STATUS_TIMEOUT) {
        break;
      }
      if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
        return Error(Status::Unavailable("amqp consume failed"));
      }
      bodies_.emplace_back(static_cast<const char*>(envelope.message.body.bytes),
                           envelope.message.body.len);
      last_tag = envelope.delivery_tag;
      amqp_destroy_envelope(&envelope);
    }
    if (bodies_.empty()) return 0;
    if (const int rc = amqp_basic_ack(connection_.get(), kChannel, last_tag, 1); rc != 0) {
      return Error(Status::Unavailable(std::string("amqp ack: ") + amqp_error_string2(rc)));
    }
    for (const std::string& body : bodies_) on_done(body);
    return bodies_.size();
  }

 private:
  ConnectionPtr connection_;
  const PeerOptions& options_;
  std::vector<std::string> bodies_;
};

class RabbitMqPeer final : public Peer {
 public:
  explicit RabbitMqPeer(const PeerOptions& options) : options_(options) {}

  Status Prepare() override {
    auto connection = Connect(options_);
    if (!connection) return connection.error();
    const bool d1 = options_.durability == Durability::kD1;
    amqp_table_entry_t quorum{.key = amqp_cstring_bytes("x-queue-type"), .value = {}};
    quorum.value.kind = AMQP_FIELD_KIND_UTF8;
    quorum.value.value.bytes = amqp_cstring_bytes("quorum");
    const amqp_table_t arguments{.num_entries = d1 ? 1 : 0, .entries = &quorum};
    amqp_queue_declare(connection->get(), kChannel, amqp_cstring_bytes(options_.queue.c_str()), 0,
                       d1 ? 1 : 0, 0, 0, arguments);
    return ReplyStatus(connection->get(), "queue.declare");
  }

  Result<std::unique_ptr<Producer>> NewProducer() override {
    auto connection = Connect(options_);
    if (!connection) return Error(connection.error());
    amqp_confirm_select(connection->get(), kChannel);
    if (Status status = ReplyStatus(connection->get(), "confirm.select"); !status.ok()) {
      return Error(status);
    }
    return std::make_unique<RabbitMqProducer>(std::move(*connection), options_);
  }

  Result<std::unique_ptr<Consumer>> NewConsumer() override {
    auto connection = Connect(options_);
    if (!connection) return Error(connection.error());
    amqp_basic_qos(connection->get(), kChannel, 0, static_cast<uint16_t>(options_.window), 0);
    if (Status status = ReplyStatus(connection->get(), "basic.qos"); !status.ok()) {
      return Error(status);
    }
    amqp_basic_consume(connection->get(), kChannel, amqp_cstring_bytes(options_.queue.c_str()),
                       amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    if (Status status = ReplyStatus(connection->get(), "basic.consume"); !status.ok()) {
      return Error(status);
    }
    return std::make_unique<RabbitMqConsumer>(std::move(*connection), options_);
  }

  std::string Settings() const override {
    return options_.durability == Durability::kD1
               ? "durable quorum queue, persistent messages, publisher confirms"
               : "transient classic queue, transient messages, publisher confirms";
  }

 private:
  PeerOptions options_;
};

}  // namespace

Result<std::unique_ptr<Peer>> MakeRabbitMqPeer(const PeerOptions& options) {
  return std::make_unique<RabbitMqPeer>(options);
}

}  // namespace cmdq::peers
