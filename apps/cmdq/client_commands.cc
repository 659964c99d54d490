// `cmdq get | list | audit | cancel | undo | redrive`, and the registration of all the
// client subcommands (submit is in submit_command.cc).
#include "client_commands.h"

#include <fmt/format.h>

#include <algorithm>

#include "protocol/record_writer.h"
#include "record_table.h"

namespace cmdq::app {
namespace {

using ClientPtr = std::unique_ptr<Client>;

CLI::App* AddIdCommand(CLI::App& app, std::string_view name, std::string_view about,
                       ClientCommandOptions& options) {
  CLI::App* cmd = app.add_subcommand(std::string(name), std::string(about));
  cmd->add_option("id", options.id, "Command id (16 hex digits)")->required();
  cmd->add_flag("--json", options.json, "Print the API's JSON");
  AddConnectionFlags(*cmd, options.connection);
  return cmd;
}

CLI::App* AddListCommand(CLI::App& app, ClientCommandOptions& options) {
  CLI::App* cmd = app.add_subcommand("list", "List commands, newest first, one page");
  cmd->footer("Example: cmdq list --key user-1 --state dead --limit 20");
  cmd->add_option("--key,-k", options.list_key, "Only this partition key");
  cmd->add_option("--state,-s", options.list_state, "Only this state (pending, dead...)");
  cmd->add_option("--type,-t", options.list_type, "Only this type");
  cmd->add_option("--cursor", options.cursor, "Continue after this page's cursor");
  cmd->add_option("--limit,-n", options.limit, "Records per page")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_flag("--json", options.json, "Print the API's JSON");
  AddConnectionFlags(*cmd, options.connection);
  return cmd;
}

// What every command shares before its call: the client, and the id when it has one.
struct Prepared {
  ClientPtr client;
  CommandId id;
};

Result<Prepared> Prepare(const ClientCommandOptions& options, bool needs_id) {
  Prepared prepared;
  if (needs_id) {
    auto id = CommandId::Parse(options.id);
    if (!id)
      return Error(Status::InvalidArgument("id", fmt::format("\"{}\" is not a command id "
                                                             "(16 hex digits)",
                                                             options.id)));
    prepared.id = *id;
  }
  auto client = Client::Create(ClientOptionsFor(options.connection));
  if (!client) return Error(client.error());
  prepared.client = std::move(*client);
  return prepared;
}

int PrintRecord(const Result<Record>& record, bool json, std::string_view what) {
  if (!record) return ReportFailure(what, record.error());
  fmt::print("{}", json ? protocol::RecordJson(*record) + "\n" : RecordText(*record));
  return kExitOk;
}

int RunGet(Prepared& p, const ClientCommandOptions& options) {
  if (options.wait.empty()) return PrintRecord(p.client->Get(p.id), options.json, "get");
  auto wait = ParseDuration(options.wait, "wait");
  if (!wait) return ReportUsage("get", wait.error());
  auto record = p.client->Wait(p.id, *wait);
  const int printed = PrintRecord(record, options.json, "get");
  return printed != kExitOk ? printed : ExitCodeForWaited(*record);
}

int RunList(Prepared& p, const ClientCommandOptions& options) {
  ListQuery query;
  if (!options.list_key.empty()) query.key = options.list_key;
  if (!options.list_type.empty()) query.type = options.list_type;
  if (!options.list_state.empty()) {
    auto state = ParseState(options.list_state);
    if (!state) return ReportUsage("list", state.error());
    query.state = *state;
  }
  if (!options.cursor.empty()) {
    auto cursor = CommandId::Parse(options.cursor);
    if (!cursor) return ReportUsage("list", cursor.error());
    query.before = *cursor;
  }
  query.limit = options.limit;
  auto page = p.client->List(query);
  if (!page) return ReportFailure("list", page.error());
  fmt::print("{}", options.json ? protocol::ListPageJson(*page) + "\n" : ListTable(*page));
  return kExitOk;
}

int RunAudit(Prepared& p, const ClientCommandOptions& options) {
  auto events = p.client->Audit(p.id);
  if (!events) return ReportFailure("audit", events.error());
  fmt::print("{}", options.json ? protocol::AuditJson(*events) + "\n" : AuditTable(*events));
  return kExitOk;
}

// cancel, undo, redrive: the action, then the record as it is after it.
int RunAction(Prepared& p, const ClientCommandOptions& options, std::string_view action,
              Status (Client::*call)(CommandId)) {
  if (Status s = (p.client.get()->*call)(p.id); !s.ok()) return ReportFailure(action, s);
  return PrintRecord(p.client->Get(p.id), options.json, action);
}

}  // namespace

int ExitCodeForWaited(const Record& record) {
  if (record.state == State::kSucceeded) return kExitOk;
  return IsTerminal(record.state) ? kExitNotSucceeded : kExitTimeout;
}

ClientCommands AddClientCommands(CLI::App& app, ClientCommandOptions& options) {
  ClientCommands c;
  c.submit = AddSubmitCommand(app, options);
  c.get = AddIdCommand(app, "get", "Show a command: its state, result and error", options);
  c.get->add_option("--wait", options.wait,
                    "Wait this long (500ms, 2s) for the command to end before showing it");
  c.list = AddListCommand(app, options);
  c.audit = AddIdCommand(app, "audit", "Show every state change of a command", options);
  c.cancel = AddIdCommand(app, "cancel", "Cancel a pending, scheduled or failed command", options);
  c.undo = AddIdCommand(app, "undo", "Undo a succeeded command (its type's undo runs)", options);
  c.redrive = AddIdCommand(app, "redrive", "Run a dead command again", options);
  return c;
}

std::optional<int> RunClientCommands(const ClientCommands& c, const ClientCommandOptions& options) {
  if (c.submit->parsed()) return RunSubmit(options);
  CLI::App* const by_id[] = {c.get, c.audit, c.cancel, c.undo, c.redrive};
  const bool needs_id =
      std::any_of(std::begin(by_id), std::end(by_id), [](CLI::App* cmd) { return cmd->parsed(); });
  if (!needs_id && !c.list->parsed()) return std::nullopt;
  auto prepared = Prepare(options, needs_id);
  if (!prepared) {
    return prepared.error().field() == "id" ? ReportUsage("command", prepared.error())
                                            : ReportFailure("command", prepared.error());
  }
  if (c.list->parsed()) return RunList(*prepared, options);
  if (c.get->parsed()) return RunGet(*prepared, options);
  if (c.audit->parsed()) return RunAudit(*prepared, options);
  if (c.cancel->parsed()) return RunAction(*prepared, options, "cancel", &Client::Cancel);
  if (c.undo->parsed()) return RunAction(*prepared, options, "undo", &Client::Undo);
  return RunAction(*prepared, options, "redrive", &Client::Redrive);
}

}  // namespace cmdq::app
