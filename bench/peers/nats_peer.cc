// NATS JetStream through nats.c: a work-queue stream (messages leave it when acked), one
// durable pull consumer shared by the consumer connections. Producers use js_PublishAsync
// with at most `window` publishes waiting for their PubAck; consumers fetch up to `batch`,
// ack each (natsMsg_Ack does not wait) and then flush the connection: a PING/PONG round
// trip after the acks, so done = the server has read the acks. D0: memory storage;
// "D1": file storage, which nats-server 2.9 writes before the PubAck without an fsync
// (SERVICES.md): not the durability the other peers' D1 has.
#include <nats/nats.h>

#include <atomic>
#include <memory>
#include <string>

#include "peer.h"

namespace cmdq::peers {
namespace {

constexpr const char* kConsumer = "workers";

Status NatsError(natsStatus status, std::string_view what) {
  return Status::Unavailable("nats " + std::string(what) + ": " + natsStatus_GetText(status));
}

// A connection and its JetStream context.
class JetStream {
 public:
  static Result<std::unique_ptr<JetStream>> Connect(const PeerOptions& options,
                                                    std::atomic<uint64_t>* publish_errors) {
    auto stream = std::unique_ptr<JetStream>(new JetStream());
    const std::string url = "nats://" + options.host + ":" + std::to_string(options.port);
    if (natsStatus s = natsConnection_ConnectTo(&stream->connection_, url.c_str()); s != NATS_OK) {
      return Error(NatsError(s, "connect"));
    }
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.PublishAsync.MaxPending = options.window;
    js_options.PublishAsync.StallWait = 10'000;  // ms: wait for room rather than fail
    js_options.PublishAsync.ErrHandler = &JetStream::OnPublishError;
    js_options.PublishAsync.ErrHandlerClosure = publish_errors;
    if (natsStatus s = natsConnection_JetStream(&stream->js_, stream->connection_, &js_options);
        s != NATS_OK) {
      return Error(NatsError(s, "jetstream"));
    }
    return stream;
  }

  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;
  ~JetStream() {
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (connection_ != nullptr) natsConnection_Destroy(connection_);
  }

  natsConnection* connection() const { return connection_; }
  jsCtx* js() const { return js_; }

 private:
  JetStream() = default;
  static void OnPublishError(jsCtx*, jsPubAckErr*, void* closure) {
    static_cast<std::atomic<uint64_t>*>(closure)->fetch_add(1);
  }

  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
};

class NatsProducer final : public Producer {
 public:
  NatsProducer(std::unique_ptr<JetStream> stream, const PeerOptions& options,
               const std::atomic<uint64_t>& publish_errors)
      : stream_(std::move(stream)), options_(options), publish_errors_(publish_errors) {}

  Status Send(std::span<const std::string> messages) override {
    for (const std::string& body : messages) {
      if (natsStatus s = js_PublishAsync(stream_->js(), options_.queue.c_str(), body.data(),
                                         static_cast<int>(body.size()), nullptr);
          s != NATS_OK) {
        return NatsError(s, "publish");
      }
    }
    return Errors();
  }

  Status Drain() override {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = 60'000;
    if (natsStatus s = js_PublishAsyncComplete(stream_->js(), &options); s != NATS_OK) {
      return NatsError(s, "publish complete");
    }
    return Errors();
  }

 private:
  Status Errors() const {
    return publish_errors_.load() == 0 ? Status::Ok()
                                       : Status::Internal("nats: a publish was not acknowledged");
  }

  std::unique_ptr<JetStream> stream_;
  const PeerOptions& options_;
  const std::atomic<uint64_t>& publish_errors_;
};

class NatsConsumer final : public Consumer {
 public:
  NatsConsumer(std::unique_ptr<JetStream> stream, natsSubscription* subscription, int batch)
      : stream_(std::move(stream)), subscription_(subscription), batch_(batch) {}
  ~NatsConsumer() override { natsSubscription_Destroy(subscription_); }

  Result<size_t> TakeBatch(const OnDone& on_done) override {
    natsMsgList list{};
    const natsStatus s = natsSubscription_Fetch(&list, subscription_, batch_, 100, nullptr);
    if (s == NATS_TIMEOUT) return 0;
    if (s != NATS_OK) return Error(NatsError(s, "fetch"));
    Status status = Status::Ok();
    for (int i = 0; i < list.Count && status.ok(); ++i) {
      if (natsStatus a = natsMsg_Ack(list.Msgs[i], nullptr); a != NATS_OK) {
        status = NatsError(a, "ack");
      }
    }
    if (status.ok()) {
      if (natsStatus f = natsConnection_Flush(stream_->connection()); f != NATS_OK) {
        status = NatsError(f, "flush");
      }
    }
    if (status.ok()) {
      for (int i = 0; i < list.Count; ++i) {
        on_done(std::string_view(natsMsg_GetData(list.Msgs[i]),
                                 static_cast<size_t>(natsMsg_GetDataLength(list.Msgs[i]))));
      }
    }
    const int count = list.Count;
    natsMsgList_Destroy(&list);
    if (!status.ok()) return Error(status);
    return static_cast<size_t>(count);
  }

 private:
  std::unique_ptr<JetStream> stream_;
  natsSubscription* subscription_;
  const int batch_;
};

class NatsPeer final : public Peer {
 public:
  explicit NatsPeer(const PeerOptions& options) : options_(options) {}

  Status Prepare() override {
    auto stream = JetStream::Connect(options_, &publish_errors_);
    if (!stream) return stream.error();
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    const char* subjects[] = {options_.queue.c_str()};
    config.Name = options_.queue.c_str();
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Retention = js_WorkQueuePolicy;
    config.Storage = options_.durability == Durability::kD1 ? js_FileStorage : js_MemoryStorage;
    jsErrCode code{};
    if (natsStatus s = js_AddStream(nullptr, (*stream)->js(), &config, nullptr, &code);
        s != NATS_OK) {
      return NatsError(s, "add stream (code " + std::to_string(code) + ")");
    }
    jsConsumerConfig consumer;
    jsConsumerConfig_Init(&consumer);
    consumer.Durable = kConsumer;
    consumer.AckPolicy = js_AckExplicit;
    consumer.MaxAckPending = 4 * options_.window;
    if (natsStatus s = js_AddConsumer(nullptr, (*stream)->js(), options_.queue.c_str(), &consumer,
                                      nullptr, &code);
        s != NATS_OK) {
      return NatsError(s, "add consumer (code " + std::to_string(code) + ")");
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<Producer>> NewProducer() override {
    auto stream = JetStream::Connect(options_, &publish_errors_);
    if (!stream) return Error(stream.error());
    return std::make_unique<NatsProducer>(std::move(*stream), options_, publish_errors_);
  }

  Result<std::unique_ptr<Consumer>> NewConsumer() override {
    auto stream = JetStream::Connect(options_, &publish_errors_);
    if (!stream) return Error(stream.error());
    jsSubOptions sub_options;
    jsSubOptions_Init(&sub_options);
    sub_options.Stream = options_.queue.c_str();
    sub_options.Consumer = kConsumer;
    natsSubscription* subscription = nullptr;
    if (natsStatus s = js_PullSubscribe(&subscription, (*stream)->js(), options_.queue.c_str(),
                                        kConsumer, nullptr, &sub_options, nullptr);
        s != NATS_OK) {
      return Error(NatsError(s, "pull subscribe"));
    }
    return std::make_unique<NatsConsumer>(std::move(*stream), subscription, options_.batch);
  }

  std::string Settings() const override {
    return options_.durability == Durability::kD1
               ? "work-queue stream, file storage (no fsync before PubAck in 2.9)"
               : "work-queue stream, memory storage";
  }

 private:
  PeerOptions options_;
  std::atomic<uint64_t> publish_errors_{0};
};

}  // namespace

Result<std::unique_ptr<Peer>> MakeNatsPeer(const PeerOptions& options) {
  return std::make_unique<NatsPeer>(options);
}

}  // namespace cmdq::peers
