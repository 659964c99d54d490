#include "e2e/client_e2e_support.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

namespace cmdq::testing {
namespace {

constexpr std::string_view kListening = "cmdq: listening on ";

}  // namespace

Result<std::unique_ptr<ServedCmdq>> ServedCmdq::Start(const std::vector<std::string>& types,
                                                      const std::vector<std::string>& extra) {
  auto served = std::unique_ptr<ServedCmdq>(new ServedCmdq());
  std::string dir = (std::filesystem::temp_directory_path() / "cmdq-e2e-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return Error(Status(StatusCode::kIoError, "mkdtemp"));
  served->data_dir_ = dir;
  served->args_ = {"serve", "--listen", "127.0.0.1:0", "--data-dir", dir + "/data"};
  for (const std::string& type : types) {
    served->args_.push_back("--type");
    served->args_.push_back(type);
  }
  served->args_.insert(served->args_.end(), extra.begin(), extra.end());
  if (Status s = served->Spawn(); !s.ok()) return Error(s);
  return served;
}

Status ServedCmdq::Spawn() {
  target_.clear();
  auto child = ChildProcess::Spawn(CMDQ_BINARY, args_);
  if (!child) return child.error();
  child_ = std::move(*child);
  child_->ReadLines(ChildProcess::Clock::now() + std::chrono::seconds(10),
                    [&](std::string_view line) {
                      if (!line.starts_with(kListening)) return true;
                      target_ = "http://" + std::string(line.substr(kListening.size()));
                      return false;
                    });
  if (target_.empty()) return Status::Unavailable("cmdq serve printed no port");
  return Status::Ok();
}

int ServedCmdq::Terminate(std::chrono::milliseconds timeout) {
  child_->Terminate();
  return child_->Wait(timeout);
}

Status ServedCmdq::Restart() {
  child_.reset();
  return Spawn();
}

uint16_t ServedCmdq::port() const {
  return static_cast<uint16_t>(std::stoi(target_.substr(target_.rfind(':') + 1)));
}

ServedCmdq::~ServedCmdq() {
  child_.reset();  // SIGKILL and reap: these tests are not about draining
  std::error_code ignored;
  std::filesystem::remove_all(data_dir_, ignored);
}

std::unique_ptr<Client> ServedCmdq::NewClient() const {
  ClientOptions options;
  options.target = target_;
  auto client = Client::Create(options);
  return client ? std::move(*client) : nullptr;
}

CliRun RunCmdq(const std::string& args, const std::string& input) {
  CliRun run;
  const std::string command =
      "printf %s " + ShellQuote(input) + " | " + CMDQ_BINARY + " " + args + " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char chunk[4096];
  for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0;) run.output.append(chunk, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace cmdq::testing
