// ServeChild: the `cmdq serve` a benchmark over HTTP runs against when no --target is
// given. It is this same binary, started as a child on 127.0.0.1:0 with a scratch data
// directory and the benchmark's type declared for remote workers; the port comes from the
// first line the server prints ("cmdq: listening on 127.0.0.1:PORT"). Its standard error
// goes to serve.log in the scratch directory, shown when the start fails.
// Not thread-safe: one owner starts and stops it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cmdq/status.h"
#include "scratch_dir.h"

namespace cmdq::app {

struct ServeChildOptions {
  std::vector<std::string> types;  // declared with --type, run by remote workers
  bool durable = true;             // false: the in-memory store, no fsync (D0)
  std::string data_dir;            // empty: a fresh directory, removed after
  std::chrono::seconds start_timeout{30};
};

class ServeChild {
 public:
  static Result<std::unique_ptr<ServeChild>> Start(const ServeChildOptions& options);
  ~ServeChild();  // stops it if still running
  ServeChild(const ServeChild&) = delete;
  ServeChild& operator=(const ServeChild&) = delete;

  const std::string& target() const { return target_; }  // "http://127.0.0.1:PORT"
  pid_t pid() const { return pid_; }
  // The server's CPU time so far (user + system, from /proc/PID/stat); 0 if unreadable.
  double CpuSeconds() const;
  // SIGTERM, then waits for it to drain and exit (SIGKILL after `grace`). OK when it
  // exited 0.
  Status Stop(std::chrono::seconds grace = std::chrono::seconds(30));

 private:
  ServeChild() = default;

  std::unique_ptr<ScratchDir> dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::thread drain_;  // reads the server's stdout after the first line, so it never blocks
  std::string target_;
};

}  // namespace cmdq::app
