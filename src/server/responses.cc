#include "server/responses.h"

#include "protocol/response_writer.h"

namespace cmdq::server {

HttpResponse JsonResponse(http::status status, std::string body) {
  HttpResponse response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

HttpResponse OkJson(std::string body) { return JsonResponse(http::status::ok, std::move(body)); }

HttpResponse ErrorResponse(const Status& error) {
  return ErrorResponse(static_cast<http::status>(protocol::HttpStatus(error)), error);
}

HttpResponse ErrorResponse(http::status status, const Status& error) {
  return JsonResponse(status, protocol::ErrorJson(error));
}

}  // namespace cmdq::server
