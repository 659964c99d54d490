// ScratchDir: the data directory of a benchmark run. Either the one the user named (kept
// afterwards, so it can be inspected) or a fresh one under the system's temporary
// directory (TMPDIR; it must be on the disk being measured, not a tmpfs), removed with
// everything in it when the ScratchDir goes away.
#pragma once

#include <memory>
#include <string>

#include "cmdq/status.h"

namespace cmdq::app {

class ScratchDir {
 public:
  // `named` empty: make a fresh temporary directory. kIoError if it cannot be made.
  static Result<std::unique_ptr<ScratchDir>> Make(const std::string& named);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // Where the store goes: a path inside the directory that does not exist yet, or the
  // named directory itself.
  const std::string& store_path() const { return store_path_; }

 private:
  ScratchDir(std::string remove_on_exit, std::string store_path)
      : remove_on_exit_(std::move(remove_on_exit)), store_path_(std::move(store_path)) {}

  std::string remove_on_exit_;  // empty: keep
  std::string store_path_;
};

}  // namespace cmdq::app
