#include "server/http_server.h"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <ctime>
#include <exception>
#include <future>

#include "server/access.h"
#include "server/metrics.h"
#include "server/responses.h"
#include "server/routes_commands.h"
#include "server/routes_health.h"
#include "server/routes_workers.h"

namespace cmdq::server {

using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

struct HttpServer::IoThread {
  asio::io_context io{1};  // one thread runs it: no locking inside Asio
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread;
};

namespace {

// How often each io thread tells the balancer its CPU share.
constexpr auto kLoadPeriod = std::chrono::milliseconds(50);

// The same TCP connection as a socket of `io` (between requests: nothing pending on it).
asio::ip::tcp::socket Rehome(asio::ip::tcp::socket& socket, asio::io_context& io,
                             error_code& error) {
  asio::ip::tcp::socket moved(io);
  const auto protocol = socket.local_endpoint(error).protocol();
  if (error) return moved;
  const auto fd = socket.release(error);
  if (error) return moved;
  moved.assign(protocol, fd, error);
  if (error) ::close(fd);
  return moved;
}

// CPU time of the calling thread.
std::chrono::nanoseconds ThreadCpuTime() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// Counts a request in flight for the life of its dispatch (Stop's grace period).
class InFlight {
 public:
  explicit InFlight(std::atomic<uint32_t>& count) : count_(count) { count_.fetch_add(1); }
  ~InFlight() { count_.fetch_sub(1); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::atomic<uint32_t>& count_;
};

}  // namespace

HttpServer::HttpServer(Bus& bus, ServerOptions options)
    : options_(std::move(options)), context_(bus, options_) {
  dispatcher_ = [this](HttpRequest& request) { return Dispatch(request); };
  AddCommandRoutes(router_, context_);
  AddWorkerRoutes(router_, context_);
  AddHealthRoutes(router_, context_);
}

HttpServer::~HttpServer() {
  Stop(std::chrono::milliseconds(0));
  // Suspended requests (and their connections) go with their io_context: before the
  // members they refer to.
  acceptor_.reset();
  io_.clear();
}

void HttpServer::SetOps(ServerOps ops) {
  context_.ops = ops;
  if (ops.auth != nullptr) AddGate(AuthGate(*ops.auth));
  if (ops.metrics != nullptr) {
    Metrics* metrics = ops.metrics;
    SetObserver([metrics](const Route& route, const HttpResponse& response,
                          std::chrono::steady_clock::duration took) {
      metrics->OnHttp(route.name, static_cast<int>(response.result_int()),
                      std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
    });
    AddMetricsRoute(router_, context_);
  }
}

Status HttpServer::Start() {
  error_code error;
  const asio::ip::address address = asio::ip::make_address(options_.host, error);
  if (error) {
    return Status::InvalidArgument("listen",
                                   fmt::format("\"{}\" is not an IP address", options_.host));
  }
  const uint32_t threads =
      options_.io_threads ? options_.io_threads : std::max(1u, std::thread::hardware_concurrency());
  for (uint32_t i = 0; i < threads; ++i) io_.push_back(std::make_unique<IoThread>());
  acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(io_[0]->io);
  const asio::ip::tcp::endpoint endpoint(address, options_.port);
  acceptor_->open(endpoint.protocol(), error);
  if (!error) acceptor_->set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor_->bind(endpoint, error);
  if (!error) acceptor_->listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    acceptor_.reset();
    io_.clear();
    return Status::Unavailable(
        fmt::format("cannot listen on {}:{}: {}", options_.host, options_.port, error.message()));
  }
  port_ = acceptor_->local_endpoint().port();
  if (options_.balance_io && io_.size() > 1) {
    balancer_ = std::make_unique<IoBalancer>(static_cast<uint32_t>(io_.size()));
    for (uint32_t i = 0; i < io_.size(); ++i) {
      asio::co_spawn(io_[i]->io, SampleLoad(i), asio::detached);
    }
  }
  asio::co_spawn(io_[0]->io, Accept(), asio::detached);
  for (auto& io : io_) {
    io->thread = std::thread([raw = io.get()] { raw->io.run(); });
  }
  running_ = true;
  context_.ready.store(true);
  return Status::Ok();
}

asio::awaitable<void> HttpServer::Accept() {
  size_t next = 0;
  asio::steady_timer pause(acceptor_->get_executor());
  while (acceptor_->is_open()) {
    // Round-robin, or accepted on thread 0 for the balancer to place.
    uint32_t index = balancer_ ? 0 : static_cast<uint32_t>(next++ % io_.size());
    asio::ip::tcp::socket socket(io_[index]->io);
    error_code error;
    co_await acceptor_->async_accept(socket, asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      if (error == asio::error::operation_aborted || !acceptor_->is_open()) break;
      // Out of file descriptors or the like: pause rather than spin.
      pause.expires_after(std::chrono::milliseconds(10));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, error));
      continue;
    }
    socket.set_option(asio::ip::tcp::no_delay(true), error);
    const bool over = connections_.fetch_add(1) >= options_.max_connections;
    if (balancer_ && !over) {
      index = balancer_->Place();
      if (index != 0) {
        socket = Rehome(socket, io_[index]->io, error);
        if (error) {
          balancer_->Closed(index);
          connections_.fetch_sub(1);
          continue;
        }
      }
    }
    Serve(std::move(socket), index, over);
  }
}

void HttpServer::Serve(asio::ip::tcp::socket socket, uint32_t index, bool refuse) {
  // A refused connection is not the balancer's: it was never placed.
  const bool counted = balancer_ != nullptr && !refuse;
  auto on_close = [this, index, counted] {
    if (counted) balancer_->Closed(index);
    connections_.fetch_sub(1);
  };
  Mover mover;
  if (counted) {
    mover = [this, index](asio::ip::tcp::socket& s) { return MaybeMove(s, index); };
  }
  auto connection = std::make_shared<Connection>(std::move(socket), options_, dispatcher_,
                                                 std::move(on_close), std::move(mover));
  if (refuse) {
    connection->Refuse(ErrorResponse(
        http::status::service_unavailable,
        Status::Unavailable(fmt::format("the server holds its maximum of {} connections",
                                        options_.max_connections))));
  } else {
    connection->Start();
  }
}

bool HttpServer::MaybeMove(asio::ip::tcp::socket& socket, uint32_t index) {
  const std::optional<uint32_t> to = balancer_->TakeMove(index);
  if (!to) return false;
  error_code error;
  asio::ip::tcp::socket moved = Rehome(socket, io_[*to]->io, error);
  // Counted on `to` now: a connection lost in the move is closed there.
  if (error) {
    balancer_->Closed(*to);
    connections_.fetch_sub(1);
    return true;
  }
  Serve(std::move(moved), *to, false);
  return true;
}

asio::awaitable<void> HttpServer::SampleLoad(uint32_t index) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto cpu = ThreadCpuTime();
  auto at = SteadyClock::now();
  for (;;) {
    timer.expires_after(kLoadPeriod);
    error_code error;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return;
    const auto cpu_now = ThreadCpuTime();
    const auto at_now = SteadyClock::now();
    const double load = std::chrono::duration<double>(cpu_now - cpu).count() /
                        std::max(1e-9, std::chrono::duration<double>(at_now - at).count());
    balancer_->Report(index, std::min(1.0, load));
    cpu = cpu_now;
    at = at_now;
  }
}

asio::awaitable<HttpResponse> HttpServer::Dispatch(HttpRequest& request) {
  InFlight in_flight(in_flight_);
  const std::string_view target(request.target().data(), request.target().size());
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  auto found = router_.Find(request.method(), path);
  if (auto* answer = std::get_if<HttpResponse>(&found)) co_return std::move(*answer);
  auto& match = std::get<Router::Match>(found);
  for (const RequestGate& gate : gates_) {
    if (auto refused = gate(request, *match.route)) {
      // Refusals count too (401/403/429 are what an operator alerts on).
      if (observer_) observer_(*match.route, *refused, std::chrono::steady_clock::duration{});
      co_return std::move(*refused);
    }
  }
  co_return co_await RunRoute(*match.route, request, std::move(match.params), query);
}

asio::awaitable<HttpResponse> HttpServer::RunRoute(const Route& route, HttpRequest& request,
                                                   std::vector<std::string_view> params,
                                                   std::string_view query) {
  const auto start = SteadyClock::now();
  HttpResponse response;
  try {
    RequestContext context{request, std::move(params), query};
    response = co_await route.handler(context);
  } catch (const std::exception& e) {  // a bug or bad_alloc: one request fails, not the server
    response = ErrorResponse(Status::Internal(fmt::format("{}: {}", route.name, e.what())));
  }
  if (observer_) observer_(route, response, SteadyClock::now() - start);
  co_return response;
}

void HttpServer::StopAccepting() {
  context_.ready.store(false);
  if (!acceptor_) return;
  std::promise<void> closed;
  asio::post(acceptor_->get_executor(), [this, &closed] {
    error_code ignored;
    acceptor_->close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (!running_) return;
  running_ = false;
  StopAccepting();
  const auto deadline = SteadyClock::now() + grace;
  while (in_flight_.load() > 0 && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& io : io_) {
    io->work.reset();
    io->io.stop();
  }
  for (auto& io : io_) io->thread.join();
  context_.blocking.join();
}

}  // namespace cmdq::server
