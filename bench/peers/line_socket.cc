#include "line_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cmdq::peers {

Result<LineSocket> LineSocket::Connect(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Error(Status::Unavailable(std::string("socket: ") + std::strerror(errno)));
  LineSocket socket(fd);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return Error(Status::InvalidArgument("host", "not an IPv4 address: " + host));
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return Error(
        Status::Unavailable(host + ":" + std::to_string(port) + ": " + std::strerror(errno)));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  socket.buffer_.resize(1 << 20);
  return socket;
}

LineSocket::LineSocket(LineSocket&& other) noexcept
    : fd_(other.fd_), buffer_(std::move(other.buffer_)), begin_(other.begin_), end_(other.end_) {
  other.fd_ = -1;
}

LineSocket::~LineSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Status LineSocket::WriteAll(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Unavailable(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status LineSocket::Fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer_.data() + end_, buffer_.size() - end_, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Status::Unavailable("connection closed by the server");
    if (n < 0) return Status::Unavailable(std::string("recv: ") + std::strerror(errno));
    end_ += static_cast<size_t>(n);
    return Status::Ok();
  }
}

Result<std::string_view> LineSocket::ReadLine() {
  size_t scanned = begin_;
  for (;;) {
    const std::string_view unread(buffer_.data() + scanned, end_ - scanned);
    if (const size_t at = unread.find("\r\n"); at != std::string_view::npos) {
      const std::string_view line(buffer_.data() + begin_, scanned - begin_ + at);
      begin_ = scanned + at + 2;
      return line;
    }
    const size_t offset = end_ - begin_ > 0 ? end_ - begin_ - 1 : 0;  // a CR may end the data
    if (Status status = Fill(); !status.ok()) return Error(status);
    scanned = begin_ + offset;
  }
}

Result<std::string_view> LineSocket::ReadBody(size_t n) {
  while (end_ - begin_ < n + 2) {
    if (Status status = Fill(); !status.ok()) return Error(status);
  }
  const std::string_view body(buffer_.data() + begin_, n);
  begin_ += n + 2;
  return body;
}

}  // namespace cmdq::peers
