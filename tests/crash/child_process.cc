#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace cmdq::testing {

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const std::string& program,
                                                          const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error(Status(StatusCode::kIoError, "pipe2 failed"));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 onto fd 1 clears close-on-exec there; both pipe ends close in the child at exec.
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::vector<std::string> storage = {program};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);  // the child holds the write end now; EOF comes when it dies
  if (rc != 0) {
    ::close(fds[0]);
    return Error(Status(StatusCode::kIoError, program + ": " + std::strerror(rc)));
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, fds[0]));
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    Kill();
    Wait(std::chrono::seconds(10));
  }
  ::close(out_fd_);
}

bool ChildProcess::ReadLines(Clock::time_point deadline,
                             const std::function<bool(std::string_view)>& on_line) {
  char buf[1 << 16];
  for (;;) {
    // Lines already read first: the caller may stop at one and come back for the rest.
    for (size_t end; (end = pending_.find('\n')) != std::string::npos;) {
      const std::string line = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      if (!on_line(line)) return true;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return true;
    pollfd p{.fd = out_fd_, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return ready == 0;
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      pending_.clear();
      return false;
    }
    pending_.append(buf, static_cast<size_t>(n));
  }
}

void ChildProcess::Kill() {
  if (!reaped_) ::kill(pid_, SIGKILL);
}

void ChildProcess::Terminate() {
  if (!reaped_) ::kill(pid_, SIGTERM);
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (reaped_) return -1;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0) return -1;
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      if (::waitpid(pid_, &status, 0) != pid_) return -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  reaped_ = true;
  return status;
}

}  // namespace cmdq::testing
