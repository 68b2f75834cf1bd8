// The Server's connections. Each connection is a Session whose every step runs on its own
// strand, so a Session's members need no lock; the Impl's session registry (the one piece
// shared across connections) has a mutex. A Session cycles through
//
//   kWaiting   wait for the first byte of the next request (request_timeout for the first
//              request of a connection, idle_timeout after that); nothing is in flight
//   kReading   read the header, then the body (one request_timeout for both)
//   kHandling  run the handler, synchronously, on the strand
//   kWriting   write the response: a head we format ourselves plus the handler's shared body,
//              gathered in one write, so a cached body is never copied
//   kLingering after an error that closes the connection (413, 431, 400) the client may still be
//              sending, and pipelined requests may be waiting; we shut down our side and discard
//              input until the client closes or for 2 s, because closing a socket with unread
//              input sends a reset that can destroy the response before the client reads it. A
//              close with nothing left to read skips this.
//
// Shutdown drains rather than cuts: a Session in kWaiting is closed at once, one in any other
// phase finishes its request and answers with "Connection: close" (every response checks the
// server's draining flag). When the last Session is destroyed the io_context is stopped.

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
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <csignal>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/errors.h"
#include "http/internal/answer.h"

namespace tajir::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 16 * 1024;
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);
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

  Impl(Options options, const Router& router);
  ~Impl();

  Status start();
  void run();
  void stop_accepting();
  void shutdown(std::chrono::milliseconds grace);
  void handle_signals(std::chrono::milliseconds grace);
  uint16_t port() const { return port_; }
  size_t connections() const;

  // For Sessions.
  const Options& options() const { return options_; }
  const Router& router() const { return router_; }
  spdlog::logger& logger() const { return *logger_; }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  void remove_session(Session* session);

 private:
  void accept();
  void on_accept(error_code ec, tcp::socket socket);
  void finish_shutdown();  // on control_
  std::vector<std::shared_ptr<Session>> live_sessions() const;

  const Options options_;
  const Router& router_;
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> shutdown_requested_{false};
  std::atomic<bool> running_{false};  // run() has begun
  const unsigned threads_;
  bool started_ = false;
  uint16_t port_ = 0;

  mutable std::mutex mu_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // GUARDED_BY(mu_)
  bool shutdown_started_ = false;                                  // GUARDED_BY(mu_)
  bool destroying_ = false;                                        // GUARDED_BY(mu_)

  // Declared after the registry: destroying the io_context destroys pending handlers, which
  // own Sessions, whose destructors use the registry.
  net::io_context ioc_;
  // The acceptor, the signals and the timers are used only on this strand.
  net::strand<net::io_context::executor_type> control_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::steady_timer grace_timer_;
  net::steady_timer accept_retry_timer_;
};

class Server::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::Impl& server, tcp::socket socket)
      : server_(server), options_(server.options()), stream_(std::move(socket)) {
    error_code ec;
    tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      remote_address_ = peer.address().to_string();
      remote_port_ = peer.port();
    }
  }
  ~Session() { server_.remove_session(this); }

  void start() {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this()] { self->wait_for_request(); });
  }
  // Closes the connection if it is between requests; otherwise the request in flight finishes.
  void drain() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::kWaiting) self->close();
    });
  }
  void force_close() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

 private:
  enum class Phase { kWaiting, kReading, kHandling, kWriting, kLingering, kClosed };

  void wait_for_request() {
    phase_ = Phase::kWaiting;
    if (server_.draining()) return close();
    if (buffer_.size() > 0) return read_header();  // pipelined bytes already here
    stream_.expires_after(first_request_ ? options_.request_timeout : options_.idle_timeout);
    stream_.async_read_some(
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
    stream_.expires_after(options_.request_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(error_code ec, size_t) {
    if (ec) return on_read_error(ec);
    const auto& msg = parser_->get();
    method_ = std::string(sv(msg.method_string()));
    target_ = std::string(sv(msg.target()));
    if (!parser_->is_done() && msg.version() >= 11 &&
        iequals(sv(msg[bhttp::field::expect]), "100-continue")) {
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](error_code ec, size_t) {
                         if (ec) return self->close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return handle();
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(error_code ec, size_t) {
    if (ec) return on_read_error(ec);
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
          /*head_only=*/false, /*close=*/true);
    }
    if (ec == bhttp::error::header_limit) {
      return send(
          error(431, "headers_too_large",
                "the request headers exceed " + std::to_string(options_.header_limit) + " bytes"),
          false, true);
    }
    if (is_http_parse_error(ec) && ec != bhttp::error::partial_message &&
        ec != bhttp::error::end_of_stream) {
      return send(error(400, "bad_request", "malformed HTTP request"), false, true);
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
    auto& msg = parser_->get();
    choose_request_id();
    bool head_only = msg.method_string() == "HEAD";
    bool keep_alive = msg.keep_alive();
    version_ = msg.version();
    Response res =
        internal::answer(server_.router(), msg, request_id_, remote_address_, server_.logger());
    parser_.reset();
    send(std::move(res), head_only, !keep_alive);
  }

  // REQUIRES: res.status in 200..599 (internal::answer() makes sure of it).
  void send(Response res, bool head_only, bool close) {
    phase_ = Phase::kWriting;
    close = close || server_.draining();
    close_after_write_ = close;
    status_ = res.status;
    bool has_body = status_has_body(res.status);
    size_t content_length = res.body_size();
    body_ = has_body && !head_only ? std::move(res.body) : nullptr;

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

    stream_.expires_after(options_.request_timeout);
    auto done = beast::bind_front_handler(&Session::on_write, shared_from_this());
    if (body_ && !body_->empty()) {
      std::array<net::const_buffer, 2> buffers = {net::buffer(head_), net::buffer(*body_)};
      net::async_write(stream_, buffers, std::move(done));
    } else {
      net::async_write(stream_, net::buffer(head_), std::move(done));
    }
  }

  void on_write(error_code ec, size_t bytes) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
    server_.logger().info("request id={} method={} target={} status={} bytes={} us={} remote={}:{}",
                          request_id_, escape_for_log(method_), escape_for_log(target_), status_,
                          bytes, us.count(), remote_address_, remote_port_);
    body_.reset();
    first_request_ = false;
    if (ec) return close();
    if (!close_after_write_) return wait_for_request();
    error_code ignored;
    if (unread_input_ || buffer_.size() > 0 || stream_.socket().available(ignored) > 0) {
      return linger_close();
    }
    close();
  }

  void linger_close() {
    phase_ = Phase::kLingering;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTimeout);
    discard_input();
  }

  void discard_input() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](error_code ec, size_t) {
                              if (ec || self->phase_ == Phase::kClosed) return self->close();
                              self->discard_input();
                            });
  }

  void close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  Server::Impl& server_;
  const ServerOptions& options_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_address_;
  uint16_t remote_port_ = 0;
  Phase phase_ = Phase::kWaiting;
  bool first_request_ = true;
  bool close_after_write_ = false;
  bool unread_input_ = false;  // a request was abandoned part-read: linger before closing
  unsigned version_ = 11;

  // The request being answered: for the response and the log line.
  Clock::time_point started_;
  std::string request_id_;
  std::string method_ = "-";
  std::string target_ = "-";
  int status_ = 0;
  std::string head_;
  std::shared_ptr<const std::string> body_;
};

Server::Impl::Impl(Options options, const Router& router)
    : options_(std::move(options)),
      router_(router),
      logger_(options_.logger ? options_.logger : spdlog::default_logger()),
      threads_(options_.io_threads > 0 ? static_cast<unsigned>(options_.io_threads)
                                       : std::max(1u, std::thread::hardware_concurrency())),
      ioc_(static_cast<int>(threads_)),
      control_(net::make_strand(ioc_)),
      acceptor_(control_),
      signals_(control_),
      grace_timer_(control_),
      accept_retry_timer_(control_) {}

Server::Impl::~Impl() {
  {
    std::lock_guard lock(mu_);
    destroying_ = true;
  }
  ioc_.stop();
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
  accept();
  return OkStatus();
}

void Server::Impl::accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void Server::Impl::on_accept(error_code ec, tcp::socket socket) {
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
  auto session = std::make_shared<Session>(*this, std::move(socket));
  {
    std::lock_guard lock(mu_);
    sessions_.emplace(session.get(), session);
  }
  session->start();
  accept();
}

void Server::Impl::remove_session(Session* session) {
  bool last = false;
  {
    std::lock_guard lock(mu_);
    sessions_.erase(session);
    last = shutdown_started_ && sessions_.empty() && !destroying_;
  }
  if (last) net::post(control_, [this] { finish_shutdown(); });
}

auto Server::Impl::live_sessions() const -> std::vector<std::shared_ptr<Session>> {
  std::vector<std::shared_ptr<Session>> out;
  std::lock_guard lock(mu_);
  out.reserve(sessions_.size());
  for (const auto& [raw, weak] : sessions_) {
    if (auto session = weak.lock()) out.push_back(std::move(session));
  }
  return out;
}

size_t Server::Impl::connections() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void Server::Impl::run() {
  auto run_loop = [this] {
    while (true) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        logger_->error("io thread caught: {}", e.what());
      }
    }
  };
  running_.store(true);
  std::vector<std::thread> pool;
  pool.reserve(threads_ - 1);
  for (unsigned i = 1; i < threads_; ++i) pool.emplace_back(run_loop);
  run_loop();
  for (std::thread& t : pool) t.join();
}

void Server::Impl::stop_accepting() {
  net::post(control_, [this] {
    error_code ignored;
    acceptor_.close(ignored);
    accept_retry_timer_.cancel();
  });
}

void Server::Impl::shutdown(std::chrono::milliseconds grace) {
  draining_.store(true, std::memory_order_release);
  if (shutdown_requested_.exchange(true)) return;
  net::post(control_, [this, grace] {
    error_code ignored;
    acceptor_.close(ignored);
    accept_retry_timer_.cancel();
    signals_.cancel(ignored);
    grace_timer_.expires_after(grace);
    grace_timer_.async_wait([this](error_code ec) {
      if (ec) return;  // everything finished in time
      std::vector<std::shared_ptr<Session>> left = live_sessions();
      if (!left.empty()) logger_->warn("shutdown grace over: closing {} connections", left.size());
      for (auto& session : left) session->force_close();
    });
    bool none_left = false;
    {
      std::lock_guard lock(mu_);
      shutdown_started_ = true;
      none_left = sessions_.empty();
    }
    for (auto& session : live_sessions()) session->drain();
    if (none_left) finish_shutdown();
  });
}

void Server::Impl::finish_shutdown() {
  grace_timer_.cancel();
  ioc_.stop();
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
    net::post(control_, install);
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

}  // namespace tajir::http
