// Redis Streams through hiredis: producers pipeline XADD, consumers XREADGROUP a batch
// (blocking 100 ms when there is none) and send XACK and XDEL for it in one write.
// Done = both replies read. D0/D1 is the server's setting (appendfsync always for D1).
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "peer.h"
#include "pipelined_producer.h"

namespace cmdq::peers {
namespace {

struct ContextFree {
  void operator()(redisContext* context) const { redisFree(context); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;
struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

Status ContextError(const redisContext* context, std::string_view what) {
  return Status::Unavailable("redis " + std::string(what) + ": " +
                             (context->err != 0 ? context->errstr : "no reply"));
}

Result<ContextPtr> Connect(const PeerOptions& options) {
  ContextPtr context(redisConnect(options.host.c_str(), options.port));
  if (!context) return Error(Status::Internal("redis: out of memory"));
  if (context->err != 0) return Error(ContextError(context.get(), "connect"));
  return context;
}

// Appends one command of binary-safe arguments to the context's output buffer.
void Append(redisContext* context, const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data());
}

Result<ReplyPtr> NextReply(redisContext* context, std::string_view what) {
  void* raw = nullptr;
  if (redisGetReply(context, &raw) != REDIS_OK) return Error(ContextError(context, what));
  ReplyPtr reply(static_cast<redisReply*>(raw));
  if (reply->type == REDIS_REPLY_ERROR) {
    return Error(Status::Internal("redis " + std::string(what) + ": " + reply->str));
  }
  return reply;
}

Status Flush(redisContext* context) {
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(context, &done) != REDIS_OK) return ContextError(context, "write");
  }
  return Status::Ok();
}

class RedisProducer final : public PipelinedProducer {
 public:
  RedisProducer(ContextPtr context, const PeerOptions& options)
      : PipelinedProducer(options.window), context_(std::move(context)), options_(options) {}

 private:
  Status Write(std::span<const std::string> messages) override {
    for (const std::string& body : messages) {
      Append(context_.get(), {"XADD", options_.queue, "*", "d", body});
    }
    return Flush(context_.get());
  }

  Result<uint64_t> ReadConfirmation() override {
    auto reply = NextReply(context_.get(), "XADD");
    if (!reply) return Error(reply.error());
    return 1;
  }

  ContextPtr context_;
  const PeerOptions& options_;
};

class RedisConsumer final : public Consumer {
 public:
  RedisConsumer(ContextPtr context, const PeerOptions& options, std::string name)
      : context_(std::move(context)), options_(options), name_(std::move(name)) {}

  Result<size_t> TakeBatch(const OnDone& on_done) override {
    const std::string count = std::to_string(options_.batch);
    Append(context_.get(), {"XREADGROUP", "GROUP", "workers", name_, "COUNT", count, "BLOCK", "100",
                            "STREAMS", options_.queue, ">"});
    auto reply = NextReply(context_.get(), "XREADGROUP");
    if (!reply) return Error(reply.error());
    // nil on timeout; else [[stream, [[id, [field, value]], ...]]]
    if ((*reply)->type != REDIS_REPLY_ARRAY || (*reply)->elements == 0) return 0;
    const redisReply* entries = (*reply)->element[0]->element[1];
    if (entries->elements == 0) return 0;
    std::vector<std::string_view> ack = {"XACK", options_.queue, "workers"};
    std::vector<std::string_view> del = {"XDEL", options_.queue};
    for (size_t i = 0; i < entries->elements; ++i) {
      const redisReply* id = entries->element[i]->element[0];
      ack.emplace_back(id->str, id->len);
      del.emplace_back(id->str, id->len);
    }
    Append(context_.get(), ack);
    Append(context_.get(), del);
    for (const char* what : {"XACK", "XDEL"}) {
      if (auto done = NextReply(context_.get(), what); !done) return Error(done.error());
    }
    for (size_t i = 0; i < entries->elements; ++i) {
      const redisReply* fields = entries->element[i]->element[1];
      if (fields->elements < 2) continue;
      on_done(std::string_view(fields->element[1]->str, fields->element[1]->len));
    }
    return entries->elements;
  }

 private:
  ContextPtr context_;
  const PeerOptions& options_;
  const std::string name_;
};

class RedisPeer final : public Peer {
 public:
  explicit RedisPeer(const PeerOptions& options) : options_(options) {}

  Status Prepare() override {
    auto context = Connect(options_);
    if (!context) return context.error();
    Append(context->get(), {"XGROUP", "CREATE", options_.queue, "workers", "$", "MKSTREAM"});
    auto reply = NextReply(context->get(), "XGROUP CREATE");
    return reply ? Status::Ok() : reply.error();
  }

  Result<std::unique_ptr<Producer>> NewProducer() override {
    auto context = Connect(options_);
    if (!context) return Error(context.error());
    return std::make_unique<RedisProducer>(std::move(*context), options_);
  }

  Result<std::unique_ptr<Consumer>> NewConsumer() override {
    auto context = Connect(options_);
    if (!context) return Error(context.error());
    return std::make_unique<RedisConsumer>(std::move(*context), options_,
                                           "c" + std::to_string(consumers_++));
  }

  std::string Settings() const override {
    return options_.durability == Durability::kD1
               ? "XADD/XREADGROUP/XACK+XDEL, appendonly, appendfsync always"
               : "XADD/XREADGROUP/XACK+XDEL, no AOF, no RDB";
  }

 private:
  PeerOptions options_;
  int consumers_ = 0;
};

}  // namespace

Result<std::unique_ptr<Peer>> MakeRedisPeer(const PeerOptions& options) {
  return std::make_unique<RedisPeer>(options);
}

}  // namespace cmdq::peers
