// TempDir: a fresh directory under the system's temporary directory for one test, removed
// with everything in it when the test ends (kept when CMDQ_KEEP_TEST_DIRS is set, to look
// at a failed run's store). path() is empty if it could not be made.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace cmdq::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "cmdq-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data())) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty() && !std::getenv("CMDQ_KEEP_TEST_DIRS")) {
      std::filesystem::remove_all(path_, ignored);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cmdq::testing
