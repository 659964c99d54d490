#include "bench_http_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

extern char** environ;

namespace cmdq::app {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr std::string_view kListening = "cmdq: listening on ";

Status SystemError(std::string_view what) {
  return Status(StatusCode::kIoError, fmt::format("{}: {}", what, std::strerror(errno)));
}

std::vector<std::string> ServeArgs(const ServeChildOptions& options, const std::string& data_dir) {
  std::vector<std::string> args = {"cmdq",        "serve",      "--listen",
                                   "127.0.0.1:0", "--data-dir", data_dir};
  if (!options.durable) {
    args.push_back("--durability");
    args.push_back("none");
  }
  for (const std::string& type : options.types) {
    args.push_back("--type");
    args.push_back(type);
  }
  return args;
}

// Reads the first line of `fd` within `timeout`; empty when the child closed it first.
Result<std::string> ReadFirstLine(int fd, std::chrono::seconds timeout) {
  std::string line;
  const auto deadline = SteadyClock::now() + timeout;
  while (line.find('\n') == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return Error(Status::DeadlineExceeded("the server printed no port"));
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return Error(SystemError("poll"));
    }
    char chunk[256];
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0) break;
    if (n > 0) line.append(chunk, static_cast<size_t>(n));
  }
  return line.substr(0, line.find('\n'));
}

std::string ReadSmallFile(const std::string& path) {
  std::string text;
  if (std::FILE* file = std::fopen(path.c_str(), "rb")) {
    char chunk[4096];
    for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, file)) > 0;) text.append(chunk, n);
    std::fclose(file);
  }
  return text;
}

std::string LogTail(const std::string& path) {
  const std::string all = ReadSmallFile(path);
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

}  // namespace

Result<std::unique_ptr<ServeChild>> ServeChild::Start(const ServeChildOptions& options) {
  auto child = std::unique_ptr<ServeChild>(new ServeChild());
  auto dir = ScratchDir::Make(options.data_dir);
  if (!dir) return Error(dir.error());
  child->dir_ = std::move(*dir);
  child->log_path_ = child->dir_->store_path() + ".serve.log";
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Error(SystemError("pipe"));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, child->log_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> args = ServeArgs(options, child->dir_->store_path());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int error =
      posix_spawn(&child->pid_, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (error != 0) {
    close(out[0]);
    child->pid_ = -1;
    errno = error;
    return Error(SystemError("start cmdq serve"));
  }
  child->stdout_fd_ = out[0];
  auto line = ReadFirstLine(child->stdout_fd_, options.start_timeout);
  if (!line || !line->starts_with(kListening)) {
    const std::string why =
        line ? fmt::format("its first line was \"{}\"", *line) : line.error().message();
    child->Stop(std::chrono::seconds(2));
    return Error(Status::Unavailable(fmt::format("cmdq serve did not start ({}); its log:\n{}", why,
                                                 LogTail(child->log_path_))));
  }
  child->target_ = "http://" + line->substr(kListening.size());
  child->drain_ = std::thread([fd = child->stdout_fd_] {
    char sink[4096];
    while (read(fd, sink, sizeof sink) > 0) {
    }
  });
  return child;
}

double ServeChild::CpuSeconds() const {
  const std::string stat = ReadSmallFile(fmt::format("/proc/{}/stat", pid_));
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

Status ServeChild::Stop(std::chrono::seconds grace) {
  Status status;
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    const auto deadline = SteadyClock::now() + grace;
    int wstatus = 0;
    pid_t done = 0;
    while ((done = waitpid(pid_, &wstatus, WNOHANG)) == 0 && SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (done == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &wstatus, 0);
      status = Status::DeadlineExceeded("cmdq serve did not exit after SIGTERM; killed");
    } else if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
      status = Status::Internal(fmt::format("cmdq serve exited with status {}", wstatus));
    }
    pid_ = -1;
  }
  if (drain_.joinable()) drain_.join();  // the pipe ends when the server exits
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
  return status;
}

ServeChild::~ServeChild() { Stop(); }

}  // namespace cmdq::app
