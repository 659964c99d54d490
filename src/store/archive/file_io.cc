#include "store/archive/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace cmdq::archive {
namespace {

Status IoError(const std::string& what, const std::string& path) {
  return {StatusCode::kIoError, what + " " + path + ": " + std::strerror(errno)};
}

}  // namespace

Result<OutFile> OutFile::Create(std::string path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error(IoError("cannot create", path));
  return OutFile(std::move(path), fd);
}

OutFile::OutFile(OutFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), size_(other.size_) {
  other.fd_ = -1;
}

OutFile::~OutFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status OutFile::WriteAt(uint64_t offset, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("cannot write", path_);
    bytes.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status OutFile::Append(std::string_view bytes) {
  if (Status s = WriteAt(size_, bytes); !s.ok()) return s;
  size_ += bytes.size();
  return Status::Ok();
}

Status OutFile::SyncAndClose() {
  if (::fsync(fd_) != 0) return IoError("cannot sync", path_);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return IoError("cannot close", path_);
  return Status::Ok();
}

Result<InFile> InFile::Open(std::string path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Error(Status::NotFound("no archive file " + path));
    return Error(IoError("cannot open", path));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = IoError("cannot stat", path);
    ::close(fd);
    return Error(std::move(s));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(Status::InvalidArgument("path", path + " is not a regular file"));
  }
  return InFile(std::move(path), fd, static_cast<uint64_t>(st.st_size));
}

InFile::InFile(InFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), size_(other.size_) {
  other.fd_ = -1;
}

InFile::~InFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status InFile::ReadAt(uint64_t offset, size_t n, std::string& out) const {
  // The size is checked first: a damaged length never turns into a huge allocation.
  if (offset > size_ || n > size_ - offset) {
    return Status::Corruption("the file ends at " + std::to_string(size_) + ", before " +
                              std::to_string(offset + n));
  }
  out.resize(n);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, out.data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return IoError("cannot read", path_);
    if (r == 0) return Status::Corruption("the file ended while being read (was it truncated?)");
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

Status RenameDurably(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return IoError("cannot rename " + from + " to", to);
  std::string dir = std::filesystem::path(to).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IoError("cannot sync directory", dir);
  return Status::Ok();
}

}  // namespace cmdq::archive
