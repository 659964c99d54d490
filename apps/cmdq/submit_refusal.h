// Which failed submits a load generator may go on after (bench over HTTP).
#pragma once

#include "cmdq/status.h"

namespace cmdq::app {

// A failure that a later submit may not meet: the server unavailable, an answer too
// late, or its rate limit (429: ResourceExhausted without a field). Anything else is a
// refusal that retrying cannot help: a request-size limit (413, which names a field),
// an unknown type, no access.
bool IsTransientSubmitError(const Status& error);

}  // namespace cmdq::app
