// The Server's event loops and connections.
//
// Each Loop is an io_context run by one thread, with the Sessions (connections) it owns; only
// that thread touches them, so a Session's members need no lock and nothing on the path of a
// request is shared between loops. The Impl's own state (the acceptor, signals, shutdown) lives
// on loop 0. A Session cycles through
//
//   kWaiting   wait for the first byte of the next request (request_timeout for the first
//              request of a connection, idle_timeout after that); nothing is in flight
//   kReading   read the header, then the body (one request_timeout for both)
//   kHandling  answer it: on the loop when the handler can without waiting, else on the
//              worker pool, whose answer is posted back to the loop
//   kWriting   write the response: a head we format ourselves plus the handler's shared body,
//              gathered in one write, so a cached body is never copied
//   kLingering after an error that closes the connection (413, 431, 400) the client may still be
//              sending, and pipelined requests may be waiting; we shut down our side and discard
//              input until the client closes or for 2 s, because closing a socket with unread
//              input sends a reset that can destroy the response before the client reads it. A
//              close with nothing left to read skips this.
//
// Deadlines: a Session keeps the time its current phase must end by; its loop's tick closes the
// Sessions past theirs, which makes their pending operation finish with an error.
//
// Shutdown drains rather than cuts: a Session in kWaiting is closed at once, one in any other
// phase finishes its request and answers with "Connection: close" (every response checks the
// server's draining flag). When the last Session is gone the loops are stopped.

#include "http/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <csignal>
#include <limits>
#include <optional>
#include <random>
#include <thread>
#include <variant>
#include <vector>

#include "http/access_log.h"
#include "http/errors.h"
#include "http/internal/answer.h"
#include "http/worker_pool.h"
#include "util/blocking.h"

namespace tajir::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
// Sockets and timers bound to one loop's io_context: no type-erased executor on the hot path.
using Executor = net::io_context::executor_type;
using Socket = tcp::socket::rebind_executor<Executor>::other;
using Timer = net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Executor>;

constexpr size_t kReadChunk = 16 * 1024;
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);
constexpr auto kMaxTick = std::chrono::milliseconds(250);
constexpr auto kMinTick = std::chrono::milliseconds(5);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string generate_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t bits = rng();
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, bits >>= 4) id[i] = kHex[bits & 0xf];
  return id;
}

// Echoed into our headers and logs, so only harmless characters pass.
bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_' || c == '.';
  });
}

// RFC 9110: 1xx, 204 and 304 have no content and (1xx, 204) no Content-Length.
bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

// Headers the server owns; a handler's values for them are dropped.
bool is_server_header(std::string_view name) {
  for (std::string_view owned : {"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
                                 "Server", "X-Request-Id"}) {
    if (iequals(name, owned)) return true;
  }
  return false;
}

bool is_http_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

// Beast 1.74 speaks boost::string_view.
std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

void append_header(std::string& head, std::string_view name, std::string_view value) {
  head.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

class Server::Impl {
 public:
  class Session;

  // One event loop: an io_context, its thread, the Sessions it owns and its deadline tick.
  struct Loop {
    explicit Loop(size_t index) : index(index), tick(ioc.get_executor()) {}
    const size_t index;
    // Declared before the io_context: destroying it destroys pending handlers, which own
    // Sessions, whose destructors leave this list.
    std::vector<Session*> sessions;  // used on this loop's thread only
    net::io_context ioc{1};
    Timer tick;
  };

  Impl(Options options, const Router& router);
  ~Impl();

  Status start();
  void run();
  void stop_accepting();
  void shutdown(std::chrono::milliseconds grace);
  void handle_signals(std::chrono::milliseconds grace);
  uint16_t port() const { return port_; }
  size_t connections() const { return connections_.load(std::memory_order_relaxed); }
  PoolStats pool_stats() const;

  // For Sessions.
  const Options& options() const { return options_; }
  const Router& router() const { return router_; }
  spdlog::logger& logger() const { return *logger_; }
  AccessLog& access_log() { return access_log_; }
  WorkerPool& pool() { return *pool_; }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  void session_opened(Loop& loop, Session* session);
  void session_closed(Loop& loop, Session* session);

 private:
  void accept();
  void on_accept(error_code ec, Socket socket, Loop& loop);
  void arm_tick(Loop& loop);
  void finish_shutdown();  // on loop 0
  Loop& control() { return *loops_[0]; }

  const Options options_;
  const Router& router_;
  std::shared_ptr<spdlog::logger> logger_;
  const std::chrono::milliseconds tick_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> shutdown_requested_{false};
  std::atomic<bool> shutdown_started_{false};
  std::atomic<bool> running_{false};  // run() has begun
  std::atomic<size_t> connections_{0};
  std::atomic<bool> destroying_{false};  // the loops are going: post nothing to them
  bool started_ = false;
  uint16_t port_ = 0;
  size_t next_loop_ = 0;  // on loop 0

  AccessLog access_log_;
  std::unique_ptr<WorkerPool> pool_;  // made by start(), stopped by run() once the loops end
  std::vector<std::unique_ptr<Loop>> loops_;
  // On loop 0.
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  Timer grace_timer_;
  Timer accept_retry_timer_;
};

class Server::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::Impl& server, Loop& loop, Socket socket)
      : server_(server), options_(server.options()), loop_(loop), socket_(std::move(socket)) {
    error_code ec;
    tcp::endpoint peer = socket_.remote_endpoint(ec);
    if (!ec) {
      remote_address_ = peer.address().to_string();
      remote_port_ = peer.port();
    }
  }
  ~Session() { server_.session_closed(loop_, this); }

  // On the Session's loop, as everything below.
  void start() {
    server_.session_opened(loop_, this);
    wait_for_request();
  }
  // Closes the connection if it is between requests; otherwise the request in flight finishes.
  void drain() {
    if (phase_ == Phase::kWaiting) close();
  }
  // By the loop's tick.
  void close_if_overdue(Clock::time_point now) {
    if (now >= deadline_) close();
  }
  void force_close() { close(); }

 private:
  enum class Phase { kWaiting, kReading, kHandling, kWriting, kLingering, kClosed };

  void expires_after(std::chrono::milliseconds timeout) { deadline_ = Clock::now() + timeout; }
  void no_deadline() { deadline_ = Clock::time_point::max(); }

  void wait_for_request() {
    phase_ = Phase::kWaiting;
    if (server_.draining()) return close();
    if (buffer_.size() > 0) return read_header();  // pipelined bytes already here
    expires_after(first_request_ ? options_.request_timeout : options_.idle_timeout);
    socket_.async_read_some(
        buffer_.prepare(kReadChunk),
        beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(error_code ec, size_t n) {
    if (ec || phase_ == Phase::kClosed) return close();  // eof, idle timeout, drained
    buffer_.commit(n);
    read_header();
  }

  void read_header() {
    phase_ = Phase::kReading;
    started_ = Clock::now();
    request_id_.clear();
    method_ = "-";
    target_ = "-";
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(options_.body_limit));
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(options_.header_limit, std::numeric_limits<uint32_t>::max())));
    expires_after(options_.request_timeout);
    bhttp::async_read_header(socket_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(error_code ec, size_t) {
    if (ec || phase_ == Phase::kClosed) return on_read_error(ec);
    const auto& msg = parser_->get();
    method_ = std::string(sv(msg.method_string()));
    target_ = std::string(sv(msg.target()));
    if (!parser_->is_done() && msg.version() >= 11 &&
        iequals(sv(msg[bhttp::field::expect]), "100-continue")) {
      net::async_write(socket_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](error_code ec, size_t) {
                         if (ec || self->phase_ == Phase::kClosed) return self->close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return handle();
    bhttp::async_read(socket_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(error_code ec, size_t) {
    if (ec || phase_ == Phase::kClosed) return on_read_error(ec);
    handle();
  }

  void on_read_error(const error_code& ec) {
    if (phase_ == Phase::kClosed) return;
    choose_request_id();
    unread_input_ = true;
    if (ec == bhttp::error::body_limit) {
      return send(
          error(413, "payload_too_large",
                "the request body exceeds " + std::to_string(options_.body_limit) + " bytes"),
          /*close=*/true);
    }
    if (ec == bhttp::error::header_limit) {
      return send(
          error(431, "headers_too_large",
                "the request headers exceed " + std::to_string(options_.header_limit) + " bytes"),
          true);
    }
    if (is_http_parse_error(ec) && ec != bhttp::error::partial_message &&
        ec != bhttp::error::end_of_stream) {
      return send(error(400, "bad_request", "malformed HTTP request"), true);
    }
    close();  // the peer went away or timed out: nobody to answer
  }

  void choose_request_id() {
    if (!request_id_.empty()) return;
    if (parser_ && parser_->is_header_done()) {
      auto it = parser_->get().find("X-Request-Id");
      if (it != parser_->get().end() && sane_request_id(sv(it->value()))) {
        request_id_ = std::string(sv(it->value()));
        return;
      }
    }
    request_id_ = generate_request_id();
  }

  void handle() {
    phase_ = Phase::kHandling;
    no_deadline();
    auto& msg = parser_->get();
    choose_request_id();
    head_only_ = msg.method_string() == "HEAD";
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    auto prepared = internal::prepare(server_.router(), msg, request_id_, remote_address_);
    parser_.reset();
    if (Response* res = std::get_if<Response>(&prepared))
      return send(std::move(*res), !keep_alive_);
    request_ = std::move(std::get<Request>(prepared));
    if (request_.method == Method::kGet || request_.method == Method::kHead ||
        request_.method == Method::kOptions) {
      try {
        return send(internal::respond(server_.router(), request_, server_.logger()), !keep_alive_);
      } catch (const util::WouldBlock&) {
        request_.path_params.clear();  // the Router binds them again
      }
    }
    hand_to_pool();
  }

  // Runs the request on the worker pool; the answer comes back to this loop.
  void hand_to_pool() {
    bool queued = server_.pool().try_submit([self = shared_from_this()]() mutable {
      Response res =
          internal::respond(self->server_.router(), self->request_, self->server_.logger());
      Session& s = *self;
      net::post(s.loop_.ioc, [self = std::move(self), res = std::move(res)]() mutable {
        self->send(std::move(res), !self->keep_alive_);
      });
    });
    if (queued) return;
    Response busy = error(503, "overloaded", "the server is busy; retry in a moment");
    busy.set_header("Retry-After", "1");
    send(std::move(busy), !keep_alive_);
  }

  // REQUIRES: res.status in 200..599 (internal::respond() makes sure of it).
  void send(Response res, bool close) {
    if (phase_ == Phase::kClosed) return;  // closed while the pool answered
    phase_ = Phase::kWriting;
    request_ = Request();
    close = close || server_.draining();
    close_after_write_ = close;
    status_ = res.status;
    bool has_body = status_has_body(res.status);
    size_t content_length = res.body_size();
    body_ = has_body && !head_only_ ? std::move(res.body) : nullptr;

    head_.clear();
    head_.append("HTTP/1.1 ").append(std::to_string(res.status)).append(" ");
    head_.append(sv(bhttp::obsolete_reason(static_cast<bhttp::status>(res.status))));
    head_.append("\r\n");
    append_header(head_, "Server", "tajir");
    append_header(head_, "X-Request-Id", request_id_);
    bool has_content_type = false;
    for (const auto& [name, value] : res.headers) {
      if (is_server_header(name)) continue;
      if (name.empty() || name.find_first_of("\r\n: ") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        server_.logger().warn("request id={} dropped a malformed response header", request_id_);
        continue;
      }
      if (iequals(name, "Content-Type")) {
        if (!has_body) continue;
        has_content_type = true;
      }
      append_header(head_, name, value);
    }
    if (has_body) {
      if (!has_content_type) append_header(head_, "Content-Type", "application/json");
      append_header(head_, "Content-Length", std::to_string(content_length));
    }
    if (close) {
      append_header(head_, "Connection", "close");
    } else if (version_ < 11) {
      append_header(head_, "Connection", "keep-alive");
    }
    head_.append("\r\n");

    expires_after(options_.request_timeout);
    auto done = beast::bind_front_handler(&Session::on_write, shared_from_this());
    if (body_ && !body_->empty()) {
      std::array<net::const_buffer, 2> buffers = {net::buffer(head_), net::buffer(*body_)};
      net::async_write(socket_, buffers, std::move(done));
    } else {
      net::async_write(socket_, net::buffer(head_), std::move(done));
    }
  }

  void on_write(error_code ec, size_t bytes) {
    if (server_.access_log().enabled()) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
      server_.access_log().add(loop_.index, {.request_id = request_id_,
                                             .method = std::move(method_),
                                             .target = std::move(target_),
                                             .remote_address = remote_address_,
                                             .remote_port = remote_port_,
                                             .status = status_,
                                             .bytes = bytes,
                                             .us = us.count()});
    }
    body_.reset();
    first_request_ = false;
    head_only_ = false;
    if (ec || phase_ == Phase::kClosed) return close();
    if (!close_after_write_) return wait_for_request();
    error_code ignored;
    if (unread_input_ || buffer_.size() > 0 || socket_.available(ignored) > 0) {
      return linger_close();
    }
    close();
  }

  void linger_close() {
    phase_ = Phase::kLingering;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    deadline_ = Clock::now() + kLingerTimeout;
    discard_input();
  }

  void discard_input() {
    buffer_.consume(buffer_.size());
    socket_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](error_code ec, size_t) {
                              if (ec || self->phase_ == Phase::kClosed) return self->close();
                              self->discard_input();
                            });
  }

  // Pending operations finish with an error; a handler running on the pool finishes, and its
  // answer is dropped.
  void close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    no_deadline();
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  Server::Impl& server_;
  const ServerOptions& options_;
  Loop& loop_;
  Socket socket_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_address_;
  uint16_t remote_port_ = 0;
  Phase phase_ = Phase::kWaiting;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool first_request_ = true;
  bool close_after_write_ = false;
  bool unread_input_ = false;  // a request was abandoned part-read: linger before closing
  unsigned version_ = 11;

  // The request being answered: for the handler (on the pool, request_ is the pool's until
  // its answer is posted back), the response and the log line.
  Request request_;
  Clock::time_point started_;
  std::string request_id_;
  std::string method_ = "-";
  std::string target_ = "-";
  bool head_only_ = false;
  bool keep_alive_ = true;
  int status_ = 0;
  std::string head_;
  std::shared_ptr<const std::string> body_;
};

namespace {
std::chrono::milliseconds tick_for(const ServerOptions& o) {
  auto shortest = std::min(o.idle_timeout, o.request_timeout);
  return std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(shortest / 8),
                    std::chrono::milliseconds(kMinTick), std::chrono::milliseconds(kMaxTick));
}
size_t loop_count(const ServerOptions& o) {
  return o.io_threads > 0 ? static_cast<size_t>(o.io_threads)
                          : std::max(1u, std::thread::hardware_concurrency());
}
}  // namespace

Server::Impl::Impl(Options options, const Router& router)
    : options_(std::move(options)),
      router_(router),
      logger_(options_.logger ? options_.logger : spdlog::default_logger()),
      tick_(tick_for(options_)),
      access_log_(!options_.access_log_enabled ? nullptr
                  : options_.access_log        ? options_.access_log
                                               : logger_,
                  loop_count(options_)),
      loops_([&] {
        std::vector<std::unique_ptr<Loop>> loops;
        for (size_t i = 0; i < loop_count(options_); ++i)
          loops.push_back(std::make_unique<Loop>(i));
        return loops;
      }()),
      acceptor_(loops_[0]->ioc),
      signals_(loops_[0]->ioc),
      grace_timer_(loops_[0]->ioc.get_executor()),
      accept_retry_timer_(loops_[0]->ioc.get_executor()) {}

Server::Impl::~Impl() {
  destroying_.store(true, std::memory_order_release);
  for (auto& loop : loops_) loop->ioc.stop();
  if (pool_) pool_->stop();
  // The acceptor, signals and timers go before the loops (declared after them); each loop's
  // io_context then destroys the Sessions its pending handlers own.
}

Status Server::Impl::start() {
  if (started_) return Status(StatusCode::kFailedPrecondition, "the server was already started");
  error_code ec;
  net::ip::address address = net::ip::make_address(options_.address, ec);
  if (ec) return InvalidArgument("not an IP address: " + options_.address, "address");
  tcp::endpoint endpoint(address, options_.port);
  std::string where = options_.address + ":" + std::to_string(options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) {
    int backlog = std::max(1024, static_cast<int>(net::socket_base::max_listen_connections));
    acceptor_.listen(backlog, ec);
  }
  if (!ec) port_ = acceptor_.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    if (ec == net::error::address_in_use) {
      return Status(StatusCode::kUnavailable, "address in use: " + where);
    }
    return Status(StatusCode::kUnavailable, "cannot listen on " + where + ": " + ec.message());
  }
  started_ = true;
  pool_ = std::make_unique<WorkerPool>(WorkerPool::Options{
      .threads = std::max<size_t>(1, options_.workers), .queue_limit = options_.worker_queue});
  for (auto& loop : loops_) arm_tick(*loop);
  accept();
  return OkStatus();
}

void Server::Impl::arm_tick(Loop& loop) {
  loop.tick.expires_after(tick_);
  loop.tick.async_wait([this, &loop](error_code ec) {
    if (ec) return;
    Clock::time_point now = Clock::now();
    // close_if_overdue() may destroy nothing (pending handlers own the Session) but iterate a
    // copy anyway: closing is allowed to change the list in future.
    std::vector<Session*> sessions = loop.sessions;
    for (Session* s : sessions) s->close_if_overdue(now);
    arm_tick(loop);
  });
}

void Server::Impl::accept() {
  Loop& loop = *loops_[next_loop_];
  next_loop_ = (next_loop_ + 1) % loops_.size();
  acceptor_.async_accept(loop.ioc, [this, &loop](error_code ec, Socket socket) {
    on_accept(ec, std::move(socket), loop);
  });
}

void Server::Impl::on_accept(error_code ec, Socket socket, Loop& loop) {
  if (!acceptor_.is_open()) return;  // stop_accepting() or shutdown()
  if (ec) {
    // Out of descriptors or buffers: wait a little rather than spin on the error.
    logger_->warn("accept failed: {}", ec.message());
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait([this](error_code ec) {
      if (!ec && acceptor_.is_open()) accept();
    });
    return;
  }
  if (draining()) {
    error_code ignored;
    socket.close(ignored);
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  connections_.fetch_add(1, std::memory_order_relaxed);
  auto session = std::make_shared<Session>(*this, loop, std::move(socket));
  net::post(loop.ioc, [session = std::move(session)] { session->start(); });
  accept();
}

void Server::Impl::session_opened(Loop& loop, Session* session) {
  loop.sessions.push_back(session);
}

void Server::Impl::session_closed(Loop& loop, Session* session) {
  auto it = std::find(loop.sessions.begin(), loop.sessions.end(), session);
  if (it != loop.sessions.end()) {
    *it = loop.sessions.back();
    loop.sessions.pop_back();
  }
  bool last = connections_.fetch_sub(1, std::memory_order_acq_rel) == 1;
  if (last && shutdown_started_.load(std::memory_order_acquire) &&
      !destroying_.load(std::memory_order_acquire)) {
    net::post(control().ioc, [this] { finish_shutdown(); });
  }
}

Server::PoolStats Server::Impl::pool_stats() const {
  WorkerPool::Stats s = pool_->stats();
  return {s.threads, s.queued, s.busy, s.done, s.rejected};
}

void Server::Impl::run() {
  auto run_loop = [this](Loop& loop) {
    util::NonBlockingScope on_a_loop;  // a handler that would wait goes to the pool instead
    while (true) {
      try {
        loop.ioc.run();
        return;
      } catch (const std::exception& e) {
        logger_->error("io thread caught: {}", e.what());
      }
    }
  };
  running_.store(true);
  std::vector<std::thread> threads;
  threads.reserve(loops_.size() - 1);
  for (size_t i = 1; i < loops_.size(); ++i) threads.emplace_back(run_loop, std::ref(*loops_[i]));
  run_loop(*loops_[0]);
  for (std::thread& t : threads) t.join();
  pool_->stop();
  access_log_.flush();
}

void Server::Impl::stop_accepting() {
  net::post(control().ioc, [this] {
    error_code ignored;
    acceptor_.close(ignored);
    accept_retry_timer_.cancel();
  });
}

void Server::Impl::shutdown(std::chrono::milliseconds grace) {
  draining_.store(true, std::memory_order_release);
  if (shutdown_requested_.exchange(true)) return;
  net::post(control().ioc, [this, grace] {
    error_code ignored;
    acceptor_.close(ignored);
    accept_retry_timer_.cancel();
    signals_.cancel(ignored);
    grace_timer_.expires_after(grace);
    grace_timer_.async_wait([this](error_code ec) {
      if (ec) return;  // everything finished in time
      size_t left = connections();
      if (left > 0) logger_->warn("shutdown grace over: closing {} connections", left);
      for (auto& loop : loops_) {
        net::post(loop->ioc, [loop = loop.get()] {
          std::vector<Session*> sessions = loop->sessions;
          for (Session* s : sessions) s->force_close();
        });
      }
    });
    shutdown_started_.store(true, std::memory_order_release);
    for (auto& loop : loops_) {
      net::post(loop->ioc, [loop = loop.get()] {
        std::vector<Session*> sessions = loop->sessions;
        for (Session* s : sessions) s->drain();
      });
    }
    if (connections() == 0) finish_shutdown();
  });
}

void Server::Impl::finish_shutdown() {
  grace_timer_.cancel();
  for (auto& loop : loops_) loop->ioc.stop();
}

void Server::Impl::handle_signals(std::chrono::milliseconds grace) {
  auto install = [this, grace] {
    if (shutdown_requested_.load()) return;
    error_code ignored;
    signals_.add(SIGINT, ignored);
    signals_.add(SIGTERM, ignored);
    signals_.async_wait([this, grace](error_code ec, int signal) {
      if (ec) return;
      logger_->info("signal {}: shutting down", signal);
      shutdown(grace);
    });
  };
  // Before run() no io thread can touch signals_, and a signal must not slip through the gap.
  if (running_.load()) {
    net::post(control().ioc, install);
  } else {
    install();
  }
}

Server::Server(Options options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}
Server::~Server() = default;
Status Server::start() { return impl_->start(); }
uint16_t Server::port() const { return impl_->port(); }
void Server::run() { impl_->run(); }
void Server::stop_accepting() { impl_->stop_accepting(); }
void Server::shutdown(std::chrono::milliseconds grace) { impl_->shutdown(grace); }
void Server::handle_signals(std::chrono::milliseconds grace) { impl_->handle_signals(grace); }
size_t Server::connections() const { return impl_->connections(); }
Server::PoolStats Server::pool_stats() const { return impl_->pool_stats(); }

}  // namespace tajir::http
