// PipelinedProducer: the window every producer here keeps. Send() writes a batch, then
// reads confirmations while more than `window` submits of this connection are
// unconfirmed; Drain() reads them all. A peer says how to write and how many submits the
// next confirmation it reads covers (a reply, a Sync, a multiple-ack).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "peer.h"

namespace cmdq::peers {

class PipelinedProducer : public Producer {
 public:
  explicit PipelinedProducer(int window) : window_(static_cast<uint64_t>(window)) {}

  Status Send(std::span<const std::string> messages) final {
    if (Status status = Write(messages); !status.ok()) return status;
    unconfirmed_ += messages.size();
    return ReadWhileAbove(window_);
  }

  Status Drain() final { return ReadWhileAbove(0); }

 protected:
  // Writes the batch (one write where the client allows).
  virtual Status Write(std::span<const std::string> messages) = 0;
  // Blocks for the next confirmation; returns how many submits it confirms (0 is fine).
  virtual Result<uint64_t> ReadConfirmation() = 0;

 private:
  Status ReadWhileAbove(uint64_t bound) {
    while (unconfirmed_ > bound) {
      auto confirmed = ReadConfirmation();
      if (!confirmed) return confirmed.error();
      if (*confirmed > unconfirmed_) return Status::Internal("more confirmations than submits");
      unconfirmed_ -= *confirmed;
    }
    return Status::Ok();
  }

  const uint64_t window_;
  uint64_t unconfirmed_ = 0;
};

}  // namespace cmdq::peers
