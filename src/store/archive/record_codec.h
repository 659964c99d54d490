// How a StoredCommand is laid out inside an archive frame (before compression): the core
// codec's command ('C') and record status ('S', which holds the state, result and audit
// trail), each behind a varint length. Reusing the store's value codecs means an archive
// holds exactly what the RocksDB store held, checksums included.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "cmdq/status.h"
#include "cmdq/store.h"

namespace cmdq::archive {

// Appends the encoding of `s` to `out`.
void AppendStored(const StoredCommand& s, std::string& out);

// Decodes the record at the front of `in` and advances `in` past it. kCorruption naming
// what failed; never reads outside `in`.
Result<StoredCommand> TakeStored(std::string_view& in);

}  // namespace cmdq::archive
