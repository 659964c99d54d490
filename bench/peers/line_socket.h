// LineSocket: a blocking TCP connection with a read buffer, for text protocols whose
// replies are CRLF lines and counted bodies (beanstalkd). Not thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::peers {

class LineSocket {
 public:
  static Result<LineSocket> Connect(const std::string& host, int port);

  LineSocket(LineSocket&& other) noexcept;
  LineSocket& operator=(LineSocket&&) = delete;
  LineSocket(const LineSocket&) = delete;
  ~LineSocket();

  Status WriteAll(std::string_view bytes);
  // The next line without its CRLF; valid until the next read.
  Result<std::string_view> ReadLine();
  // The next `n` bytes and the CRLF after them; valid until the next read.
  Result<std::string_view> ReadBody(size_t n);

 private:
  explicit LineSocket(int fd) : fd_(fd) {}
  Status Fill();  // reads more into the buffer; compacts it first

  int fd_ = -1;
  std::string buffer_;
  size_t begin_ = 0;  // unread bytes are buffer_[begin_, end_)
  size_t end_ = 0;
};

}  // namespace cmdq::peers
