#include "scratch_dir.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace cmdq::app {

Result<std::unique_ptr<ScratchDir>> ScratchDir::Make(const std::string& named) {
  if (!named.empty()) return std::unique_ptr<ScratchDir>(new ScratchDir("", named));
  std::error_code ec;
  const std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
  if (ec) return Error(Status(StatusCode::kIoError, "no temporary directory: " + ec.message()));
  std::string pattern = (tmp / "cmdq-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    return Error(Status(StatusCode::kIoError, fmt::format("{}: {} (set TMPDIR or pass --data-dir)",
                                                          pattern, std::strerror(errno))));
  }
  return std::unique_ptr<ScratchDir>(new ScratchDir(pattern, pattern + "/store"));
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  if (!remove_on_exit_.empty()) std::filesystem::remove_all(remove_on_exit_, ignored);
}

}  // namespace cmdq::app
