// What the client, CLI and worker end-to-end tests share: a real `cmdq serve` on an
// ephemeral loopback port (the binary this build made), and running `cmdq` subcommands
// through a shell with their output and exit code. Not thread-safe: one test drives it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cmdq/client.h"
#include "crash/child_process.h"

namespace cmdq::testing {

class ServedCmdq {
 public:
  // Starts `cmdq serve --listen 127.0.0.1:0` on a fresh data directory with `types`
  // declared for remote workers, and waits for "cmdq: listening on ..." (10 s at most).
  static Result<std::unique_ptr<ServedCmdq>> Start(const std::vector<std::string>& types,
                                                   const std::vector<std::string>& extra = {});
  ~ServedCmdq();  // SIGKILL, reap, remove the data directory

  // SIGTERM, then wait up to `timeout`: the wait status (WIFEXITED...), -1 if none.
  int Terminate(std::chrono::milliseconds timeout);
  // Starts the server again, same options and data directory, on a new port.
  Status Restart();

  const std::string& target() const { return target_; }
  // The port of target().
  uint16_t port() const;
  std::unique_ptr<Client> NewClient() const;

 private:
  Status Spawn();

  std::unique_ptr<ChildProcess> child_;
  std::vector<std::string> args_;
  std::string data_dir_;
  std::string target_;
};

// A test suite whose tests share one server: SetUpTestSuite calls StartServer with the
// suite's remote types, TearDownTestSuite calls StopServer.
class ServedSuite : public ::testing::Test {
 protected:
  static void StartServer(const std::vector<std::string>& types) {
    auto started = ServedCmdq::Start(types);
    ASSERT_TRUE(started) << started.error().ToString();
    server_ = std::move(*started);
  }
  static void StopServer() { server_.reset(); }
  static const ServedCmdq& server() { return *server_; }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    client_ = server_->NewClient();
    ASSERT_NE(client_, nullptr);
  }

  std::unique_ptr<Client> client_;

 private:
  inline static std::unique_ptr<ServedCmdq> server_;
};

struct CliRun {
  int exit_code = -1;
  std::string output;  // standard output and standard error, in order
};

// Runs `cmdq ARGS` with /bin/sh (so ARGS may quote and redirect), with `input` on its
// standard input.
CliRun RunCmdq(const std::string& args, const std::string& input = {});

// Quotes `text` for /bin/sh.
std::string ShellQuote(const std::string& text);

}  // namespace cmdq::testing
