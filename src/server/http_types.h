// The HTTP message types of the server, and the one place that includes Beast for them.
// Boost 1.74's asio coroutine header uses std::exchange without <utility>
// (docs/decisions/0040-http-stack.md): <utility> comes first.
#pragma once

// clang-format off
#include <utility>  // before any Boost.Asio header: Boost 1.74 needs it (decision 0040)
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>

namespace cmdq::server {

namespace asio = boost::asio;
namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

}  // namespace cmdq::server
