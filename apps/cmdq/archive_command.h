// `cmdq archive`: inspect and restore the archive files that retention writes
// (docs/archive.md).
//   cmdq archive ls DIR                       one line per file: range, records, size,
//                                             created, OK or CORRUPT (with the reason)
//   cmdq archive cat FILE [--json]            the records, as a table or JSON lines
//   cmdq archive restore FILE --data-dir DIR  puts the records back into a RocksDB store
// Exit codes: 0 done; 1 a file is damaged or the work failed; 2 bad usage.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace cmdq::app {

struct ArchiveCommandOptions {
  std::string dir;       // ls
  std::string file;      // cat, restore
  bool json = false;     // cat: JSON lines instead of a table
  std::string data_dir;  // restore: the RocksDB store's directory
  bool create = false;   // restore: create the store when the directory does not exist
};

CLI::App* AddArchiveCommand(CLI::App& app, ArchiveCommandOptions& options);
// Runs the parsed subcommand of `archive` (a child of the app AddArchiveCommand made);
// returns the exit code.
int RunArchive(CLI::App& archive, const ArchiveCommandOptions& options);

}  // namespace cmdq::app
