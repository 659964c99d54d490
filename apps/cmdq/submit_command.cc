// `cmdq submit`: one command from flags, its payload from --payload (JSON text),
// --payload-file (any bytes; JSON goes as JSON, other bytes as base64) or standard input.
#include <fmt/format.h>

#include <cstdio>

#include "client_commands.h"
#include "protocol/json_reader.h"
#include "protocol/record_writer.h"
#include "protocol/response_writer.h"
#include "record_table.h"

namespace cmdq::app {
namespace {

Result<std::string> ReadPayloadFile(const std::string& path) {
  std::FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (file == nullptr) return Error(Status::InvalidArgument("payload-file", "cannot open " + path));
  std::string bytes;
  char chunk[64 << 10];
  for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, file)) > 0;) bytes.append(chunk, n);
  const bool failed = std::ferror(file) != 0;
  if (file != stdin) std::fclose(file);
  if (failed) return Error(Status::InvalidArgument("payload-file", "cannot read " + path));
  return bytes;
}

Result<Command> CommandFrom(const ClientCommandOptions& options) {
  Command command{.type = options.type, .key = options.key};
  if (!options.payload.empty()) {
    // --payload is JSON (docs/cli.md); other bytes go through --payload-file. Refused here,
    // as the server would: sending it as base64 instead would hide the mistake.
    if (!protocol::json::IsJsonText(options.payload)) {
      return Error(Status::InvalidArgument(
          "payload",
          "--payload is not JSON text (quote a string: '\"text\"'; bytes: --payload-file)"));
    }
    command.payload = options.payload;
    command.payload_is_json = true;
  } else if (!options.payload_file.empty()) {
    auto bytes = ReadPayloadFile(options.payload_file);
    if (!bytes) return Error(bytes.error());
    command.payload = std::move(*bytes);
    // The writer sends JSON text as "payload" and falls back to "payload_b64" for the rest.
    command.payload_is_json = true;
  }
  command.idempotency_key = options.idempotency_key;
  command.max_attempts = options.max_attempts;
  return command;
}

}  // namespace

CLI::App* AddSubmitCommand(CLI::App& app, ClientCommandOptions& options) {
  CLI::App* cmd = app.add_subcommand("submit", "Submit a command to a server");
  cmd->footer(
      "Prints the new command's id (or its record with --wait).\n"
      "Examples: cmdq submit --type cmdq.echo --key user-1 --payload '{\"hello\":1}'\n"
      "          cmdq submit --type cmdq.echo --key user-1 --payload-file - --wait 2s < in.json");
  cmd->add_option("--type,-t", options.type, "Command type (declared on the server)")->required();
  cmd->add_option("--key,-k", options.key, "Partition key: same key, one at a time, in order")
      ->required();
  auto* payload = cmd->add_option("--payload,-p", options.payload, "Payload: JSON text");
  cmd->add_option("--payload-file", options.payload_file,
                  "Payload from a file ('-' = standard input); not JSON goes as base64")
      ->excludes(payload);
  cmd->add_option("--idempotency-key", options.idempotency_key,
                  "A repeat with this key returns the first command (default: a fresh key per "
                  "run, so the client's retries cannot duplicate it)");
  cmd->add_option("--max-attempts", options.max_attempts, "0 = the type's default");
  cmd->add_option("--wait", options.wait,
                  "Wait this long (500ms, 2s) for the command to end and print its record");
  cmd->add_flag("--json", options.json, "Print the API's JSON");
  AddConnectionFlags(*cmd, options.connection);
  return cmd;
}

int RunSubmit(const ClientCommandOptions& options) {
  auto command = CommandFrom(options);
  if (!command) return ReportUsage("submit", command.error());
  auto client = Client::Create(ClientOptionsFor(options.connection));
  if (!client) return ReportFailure("submit", client.error());
  if (options.wait.empty()) {
    auto id = (*client)->Submit(std::move(*command));
    if (!id) return ReportFailure("submit", id.error());
    fmt::print("{}\n", options.json ? protocol::SubmitResultJson(*id) : id->ToString());
    return kExitOk;
  }
  auto wait = ParseDuration(options.wait, "wait");
  if (!wait) return ReportUsage("submit", wait.error());
  auto record = (*client)->SubmitAndWait(std::move(*command), *wait);
  if (!record) return ReportFailure("submit", record.error());
  fmt::print("{}", options.json ? protocol::RecordJson(*record) + "\n" : RecordText(*record));
  return ExitCodeForWaited(*record);
}

}  // namespace cmdq::app
