#include "store/rocksdb/open_checks.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "store/rocksdb/direct_io.h"

namespace cmdq::rocksdb_store {
namespace {

namespace fs = std::filesystem;

Status IoError(const std::string& what, const std::error_code& ec) {
  return {StatusCode::kIoError, what + ": " + ec.message()};
}

// access() rather than the mode bits: it answers for this process (uid, groups, ACLs,
// a read-only mount), which is the question.
bool Writable(const fs::path& dir) { return ::access(dir.c_str(), W_OK | X_OK) == 0; }

Status NotWritable(const std::string& path, const fs::path& dir) {
  return Status::FailedPrecondition("data directory " + path + ": " + dir.string() +
                                    " is not writable by this process (" + std::strerror(errno) +
                                    "); fix its permissions or choose another path");
}

// Files RocksDB leaves even when it created no database (an open that failed early).
bool Harmless(const std::string& name) {
  return name == "LOCK" || name == "LOG" || name.starts_with("LOG.old.") ||
         name == kDirectIoProbeName;
}

bool LooksLikeRocksDb(const std::string& name) {
  return name.starts_with("MANIFEST-") || name.starts_with("OPTIONS-") || name == "IDENTITY" ||
         name.ends_with(".sst") || name.ends_with(".log");
}

Result<DirState> CheckMissing(const std::string& path, bool create_if_missing) {
  if (!create_if_missing) {
    return Error(Status::NotFound("data directory " + path +
                                  " does not exist; create it, fix the path, or allow "
                                  "create_if_missing"));
  }
  // The nearest existing ancestor must let us create the rest.
  fs::path dir = fs::absolute(fs::path(path)).parent_path();
  std::error_code ec;
  while (!fs::exists(dir, ec) && dir.has_parent_path() && dir != dir.parent_path()) {
    dir = dir.parent_path();
  }
  if (!fs::is_directory(dir, ec)) {
    return Error(Status::InvalidArgument(
        "path", "data directory " + path + ": " + dir.string() + " is not a directory"));
  }
  if (!Writable(dir)) return Error(NotWritable(path, dir));
  return DirState::kAbsent;
}

}  // namespace

Result<DirState> CheckDataDirectory(const std::string& path, bool create_if_missing) {
  if (path.empty()) {
    return Error(Status::InvalidArgument("path", "the data directory path is empty"));
  }
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Error(IoError("data directory " + path, ec));
  }
  if (!fs::exists(st)) return CheckMissing(path, create_if_missing);
  if (!fs::is_directory(st)) {
    return Error(Status::InvalidArgument("path", "data directory " + path +
                                                     " is a file, not a directory; point path at a "
                                                     "directory (an empty one for a new store)"));
  }
  if (!Writable(path)) return Error(NotWritable(path, path));
  if (fs::exists(fs::path(path) / "CURRENT", ec)) return DirState::kStore;

  bool rocks = false;
  bool foreign = false;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    std::string name = entry.path().filename().string();
    if (Harmless(name)) continue;
    (LooksLikeRocksDb(name) ? rocks : foreign) = true;
  }
  if (ec) return Error(IoError("data directory " + path, ec));
  if (rocks) {
    return Error(Status::Corruption(
        "data directory " + path +
        " holds RocksDB files but no CURRENT file: the store is damaged; restore it from a "
        "backup (cmdq never repairs a store by itself)"));
  }
  if (foreign) {
    return Error(Status::FailedPrecondition(
        "data directory " + path +
        " is not empty and holds no cmdq store; choose an empty or new directory"));
  }
  return DirState::kEmpty;
}

}  // namespace cmdq::rocksdb_store
