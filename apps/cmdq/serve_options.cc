#include "serve_options.h"

#include <fmt/format.h>

#include <charconv>

namespace cmdq::app {
namespace {

Result<uint32_t> ParseCount(std::string_view text, std::string_view what) {
  uint32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Error(Status::InvalidArgument("type", fmt::format("{} must be a whole number", what)));
  }
  return value;
}

Status ApplyTypeSetting(std::string_view name, std::string_view value, TypeOptions& options) {
  if (name == "ordered") {
    if (value != "true" && value != "false") {
      return Status::InvalidArgument("type", "ordered must be true or false");
    }
    options.ordered = value == "true";
    return Status::Ok();
  }
  auto number = ParseCount(value, name);
  if (!number) return number.error();
  if (name == "max_attempts" && *number > 0) {
    options.max_attempts = *number;
  } else if (name == "timeout_ms") {
    options.timeout = std::chrono::milliseconds(*number);
  } else if (name == "backoff_ms") {
    options.backoff_initial = std::chrono::milliseconds(*number);
  } else {
    return Status::InvalidArgument(
        "type", fmt::format("unknown or bad type setting \"{}={}\" (max_attempts >= 1, "
                            "timeout_ms, backoff_ms, ordered)",
                            name, value));
  }
  return Status::Ok();
}

}  // namespace

Result<RemoteTypeSpec> ParseTypeSpec(std::string_view text) {
  RemoteTypeSpec spec;
  const size_t colon = text.find(':');
  spec.name = std::string(text.substr(0, colon));
  if (spec.name.empty()) return Error(Status::InvalidArgument("type", "a type needs a name"));
  if (spec.name.starts_with("cmdq.")) {
    return Error(Status::InvalidArgument("type", "cmdq.* types are built in"));
  }
  std::string_view rest = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  while (!rest.empty()) {
    const std::string_view setting = rest.substr(0, rest.find(','));
    rest.remove_prefix(std::min(rest.size(), setting.size() + 1));
    const size_t eq = setting.find('=');
    if (eq == std::string_view::npos) {
      return Error(
          Status::InvalidArgument("type", fmt::format("\"{}\" is not NAME=VALUE", setting)));
    }
    Status s = ApplyTypeSetting(setting.substr(0, eq), setting.substr(eq + 1), spec.options);
    if (!s.ok()) return Error(s);
  }
  return spec;
}

Result<ListenAddress> ParseListen(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Error(Status::InvalidArgument("listen", "--listen is HOST:PORT, e.g. 127.0.0.1:7700"));
  }
  ListenAddress address;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  address.host = host == "localhost" ? "127.0.0.1" : std::string(host);
  const std::string_view port = text.substr(colon + 1);
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), address.port);
  if (error != std::errc() || end != port.data() + port.size() || host.empty()) {
    return Error(Status::InvalidArgument("listen", "--listen is HOST:PORT, e.g. 127.0.0.1:7700"));
  }
  return address;
}

CLI::App* AddServeCommand(CLI::App& app, ServeOptions& o) {
  CLI::App* cmd = app.add_subcommand("serve", "Run the HTTP/JSON API server (docs/api.md)");
  cmd->footer(
      "Every option is also an environment variable (shown) and a key of the --config\n"
      "TOML file (the long name without --, e.g. listen = \"0.0.0.0:7700\"); a flag beats\n"
      "the environment, which beats the file.\n"
      "Remote types (run by `cmdq worker` or any HTTP worker) are declared with --type\n"
      "'NAME[:max_attempts=N,timeout_ms=N,backoff_ms=N,ordered=true|false]' (repeatable;\n"
      "in the file: type = [\"email.send:max_attempts=5\", \"resize\"]). The built-in\n"
      "cmdq.noop, cmdq.echo, cmdq.sleep and cmdq.fail always exist and run in-process.\n"
      "Prints `cmdq: listening on HOST:PORT` once serving. SIGTERM/SIGINT drain and exit 0.\n"
      "Example: cmdq serve --listen 127.0.0.1:7700 --data-dir ./cmdq-data --type email.send");
  auto add = [cmd](const char* flag, auto& value, const char* help, const char* env) {
    return cmd->add_option(flag, value, help)->envname(env)->capture_default_str();
  };
  add("--config", o.config, "TOML file of options", "CMDQ_CONFIG");
  add("--listen", o.listen, "HOST:PORT to listen on (port 0: a free one)", "CMDQ_LISTEN");
  add("--data-dir", o.data_dir, "Directory of the RocksDB store (durable mode)", "CMDQ_DATA_DIR");
  add("--durability", o.durability,
      "sync: every acknowledged command is on disk (RocksDB, group commit); none: in memory, "
      "async, nothing survives the process",
      "CMDQ_DURABILITY")
      ->check(CLI::IsMember({"sync", "none"}));
  add("--type", o.types, "A remote command type NAME[:settings] (repeatable)", "CMDQ_TYPES")
      ->delimiter(';');
  add("--log-level", o.log_level, "trace, debug, info, warn, error, off", "CMDQ_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  add("--threads", o.io_threads, "HTTP io threads (0 = cores)", "CMDQ_THREADS");
  add("--balance-io", o.balance_io,
      "Pack connections onto one io thread at light load, spread them when it is busy "
      "(false: round-robin, never moved)",
      "CMDQ_BALANCE_IO");
  add("--blocking-threads", o.blocking_threads,
      "Threads for Bus calls that block (durable submits wait for fsync)", "CMDQ_BLOCKING_THREADS")
      ->check(CLI::Range(1, 1024));
  add("--workers", o.workers, "Handler threads of the built-in types (0 = cores)", "CMDQ_WORKERS");
  add("--queue-capacity", o.queue_capacity,
      "Commands queued per partition (of 64) before submits wait for room", "CMDQ_QUEUE_CAPACITY")
      ->check(CLI::Range(1u, 1u << 24));
  add("--max-body-bytes", o.max_body_bytes, "Largest request body (413 above)",
      "CMDQ_MAX_BODY_BYTES");
  add("--max-batch", o.max_batch, "Most commands in one submit (413 above)", "CMDQ_MAX_BATCH")
      ->check(CLI::Range(1, 100'000));
  add("--request-timeout-ms", o.request_timeout_ms,
      "Time to receive a whole request once it began (408 above)", "CMDQ_REQUEST_TIMEOUT_MS");
  add("--idle-timeout-ms", o.idle_timeout_ms, "An idle keep-alive connection is closed after it",
      "CMDQ_IDLE_TIMEOUT_MS");
  add("--max-connections", o.max_connections,
      "Open connections at most; one more is answered 503 and closed", "CMDQ_MAX_CONNECTIONS");
  add("--max-wait-ms", o.max_wait_ms, "Longest ?wait= (400 above)", "CMDQ_MAX_WAIT_MS");
  add("--lease-ms", o.lease_ms, "A lease's length when the worker does not say", "CMDQ_LEASE_MS");
  add("--drain-ms", o.drain_ms, "On SIGTERM: how long leased commands may still be finished",
      "CMDQ_DRAIN_MS");
  add("--tokens", o.tokens, "Bearer token file (docs/operations.md); empty: no access control",
      "CMDQ_TOKENS");
  cmd->add_flag("--insecure", o.insecure, "Allow a non-loopback --listen without --tokens")
      ->envname("CMDQ_INSECURE");
  add("--rate-per-key", o.rate_per_key, "Submits a second per key (429 above); 0 = no limit",
      "CMDQ_RATE_PER_KEY");
  add("--rate-burst", o.rate_burst, "Submits a key may make at once after a pause",
      "CMDQ_RATE_BURST");
  return cmd;
}

Status ApplyConfigFile(CLI::App& serve, const std::string& path) {
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::Error& e) {
    return Status::InvalidArgument("config", fmt::format("{}: {}", path, e.what()));
  }
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    const std::string flag = "--" + item.name;
    CLI::Option* option = nullptr;
    try {
      option = serve.get_option(flag);
    } catch (const CLI::OptionNotFound&) {
      return Status::InvalidArgument("config",
                                     fmt::format("{}: unknown key \"{}\"", path, item.name));
    }
    if (option->count() > 0 || flag == "--config") continue;  // a flag or the environment won
    try {
      option->add_result(item.inputs);
      option->run_callback();
    } catch (const CLI::Error& e) {
      return Status::InvalidArgument("config",
                                     fmt::format("{}: {}: {}", path, item.name, e.what()));
    }
  }
  return Status::Ok();
}

}  // namespace cmdq::app
