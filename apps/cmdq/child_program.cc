#include "child_program.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace cmdq::app {
namespace {

using SteadyClock = std::chrono::steady_clock;

Status SystemError(std::string_view what) {
  return Status(StatusCode::kIoError, fmt::format("{}: {}", what, std::strerror(errno)));
}

// The three pipes of a child; each end is closed when the object goes.
struct Pipes {
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  ~Pipes() {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) {
      if (fd >= 0) close(fd);
    }
  }
  static void Close(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

Result<pid_t> Spawn(const std::string& shell_command, Pipes& pipes) {
  for (int* p : {pipes.in, pipes.out, pipes.err}) {
    if (pipe2(p, O_CLOEXEC) != 0) return Error(SystemError("pipe"));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipes.in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipes.out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipes.err[1], STDERR_FILENO);
  std::string sh = "sh", dash_c = "-c", command = shell_command;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
  // Its own process group: a Ctrl-C at the terminal stops the worker (which lets running
  // programs finish) without killing the programs with it.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = 0;
  const int error = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    errno = error;
    return Error(SystemError("spawn /bin/sh"));
  }
  Pipes::Close(pipes.in[0]);
  Pipes::Close(pipes.out[1]);
  Pipes::Close(pipes.err[1]);
  for (int fd : {pipes.in[1], pipes.out[0], pipes.err[0]}) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  return pid;
}

// Reads what is there from `fd`; false at the end (or an error) so the caller closes it.
bool Drain(int fd, std::string& sink, size_t keep, bool keep_tail, bool& overflowed) {
  char chunk[16 << 10];
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0) {
      sink.append(chunk, static_cast<size_t>(n));
      if (sink.size() > keep) {
        if (keep_tail) {
          sink.erase(0, sink.size() - keep);
        } else {
          sink.resize(keep);
          overflowed = true;
        }
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

}  // namespace

Result<ProgramRun> RunProgram(const std::string& shell_command, std::string_view input,
                              const ProgramLimits& limits, std::chrono::milliseconds tick,
                              const std::function<void()>& on_tick) {
  Pipes pipes;
  auto pid = Spawn(shell_command, pipes);
  if (!pid) return Error(pid.error());
  ProgramRun run;
  size_t written = 0;
  if (input.empty()) Pipes::Close(pipes.in[1]);
  auto next_tick = SteadyClock::now() + tick;
  while (pipes.out[0] >= 0 || pipes.err[0] >= 0) {
    pollfd fds[3] = {
        {pipes.in[1], POLLOUT, 0}, {pipes.out[0], POLLIN, 0}, {pipes.err[0], POLLIN, 0}};
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - SteadyClock::now());
    const int ready = poll(fds, 3, static_cast<int>(std::max<int64_t>(wait.count(), 0)));
    if (ready < 0 && errno != EINTR) return Error(SystemError("poll"));
    if (SteadyClock::now() >= next_tick) {
      on_tick();
      next_tick = SteadyClock::now() + tick;
    }
    if (ready <= 0) continue;
    if (fds[0].revents != 0) {
      const ssize_t n = write(pipes.in[1], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      // Done, or the program closed its input (EPIPE): either way no more to give.
      if (written == input.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        Pipes::Close(pipes.in[1]);
      }
    }
    if (fds[1].revents != 0 &&
        !Drain(pipes.out[0], run.output, limits.max_output_bytes, false, run.output_too_large)) {
      Pipes::Close(pipes.out[0]);
    }
    bool unused = false;
    if (fds[2].revents != 0 &&
        !Drain(pipes.err[0], run.error_tail, limits.error_tail_bytes, true, unused)) {
      Pipes::Close(pipes.err[0]);
    }
  }
  Pipes::Close(pipes.in[1]);
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0) {
    if (errno != EINTR) return Error(SystemError("waitpid"));
  }
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

}  // namespace cmdq::app
