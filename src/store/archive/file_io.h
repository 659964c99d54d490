// The few POSIX file operations archives need, as Status values: a file written in
// order and synced, one read at offsets, and a rename made durable (the directory is
// synced too, so the new name survives a power loss). Each object is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cmdq/status.h"

namespace cmdq::archive {

class OutFile {
 public:
  // Creates (truncates) `path` for writing. kIoError naming the path on failure.
  static Result<OutFile> Create(std::string path);
  OutFile(OutFile&& other) noexcept;
  OutFile& operator=(OutFile&&) = delete;
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;
  ~OutFile();  // closes without syncing

  Status Append(std::string_view bytes);
  Status WriteAt(uint64_t offset, std::string_view bytes);
  // fsync, then close.
  Status SyncAndClose();
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  OutFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

class InFile {
 public:
  static Result<InFile> Open(std::string path);
  InFile(InFile&& other) noexcept;
  InFile& operator=(InFile&&) = delete;
  InFile(const InFile&) = delete;
  InFile& operator=(const InFile&) = delete;
  ~InFile();

  uint64_t size() const { return size_; }
  // Exactly `n` bytes at `offset` into `out`; kCorruption if the file ends first.
  Status ReadAt(uint64_t offset, size_t n, std::string& out) const;

 private:
  InFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// rename(from, to), then fsync of the directory that holds them.
Status RenameDurably(const std::string& from, const std::string& to);

}  // namespace cmdq::archive
