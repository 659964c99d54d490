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
  std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--data-dir", dir + "/data"};
  for (const std::string& type : types) {
    args.push_back("--type");
    args.push_back(type);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  auto child = ChildProcess::Spawn(CMDQ_BINARY, args);
  if (!child) return Error(child.error());
  served->child_ = std::move(*child);
  served->child_->ReadLines(
      ChildProcess::Clock::now() + std::chrono::seconds(10), [&](std::string_view line) {
        if (!line.starts_with(kListening)) return true;
        served->target_ = "http://" + std::string(line.substr(kListening.size()));
        return false;
      });
  if (served->target_.empty()) return Error(Status::Unavailable("cmdq serve printed no port"));
  return served;
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
