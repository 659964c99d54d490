// Building the server's answers: JSON bodies with their status, and errors in the API's
// error shape (docs/api.md, "Errors"). Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "cmdq/status.h"
#include "server/http_types.h"

namespace cmdq::server {

// `status` with a JSON body.
HttpResponse JsonResponse(http::status status, std::string body);
// 200 with a JSON body.
HttpResponse OkJson(std::string body);
// The error's JSON with the status protocol::HttpStatus gives it.
HttpResponse ErrorResponse(const Status& error);
// An error whose HTTP status is the server's own (405, 408, 431, 503 of a full server...):
// `code` is the error code the body names.
HttpResponse ErrorResponse(http::status status, const Status& error);

}  // namespace cmdq::server
