// Server: the HTTP/1.1 server (Boost.Beast on Asio) that runs a Router's handlers.
//
//   Router router;  ... router.add(...) ...
//   Server server({.port = 8080}, router);
//   if (Status st = server.start(); !st.ok()) return fail(st);   // binds and listens
//   server.handle_signals(std::chrono::seconds(10));              // SIGINT/SIGTERM drain
//   std::printf("listening on %s:%u\n", "127.0.0.1", server.port());
//   server.run();                                                 // blocks until shut down
//
// Model: one io_context run by `io_threads` threads; each connection is handled on its own
// strand, one request at a time: read a request, run its handler, write the response, read
// the next. Pipelined requests are therefore answered in order. Handlers run on the io
// threads and may block (on the database, say): a blocked handler holds one io thread, so
// io_threads bounds the requests being handled at once. Accepted for now; moving handlers to
// a worker pool is the change to make when that bound starts to matter.
//
// What the server answers by itself, each with the JSON error body of errors.h and
// "Connection: close" where noted:
//   400 bad_request             malformed HTTP (close), or a target that is not "/..." or has
//                               a bad %-escape (the connection is kept)
//   413 payload_too_large       a body over body_limit (close; the rest of the body is discarded)
//   415 unsupported_media_type  a POST/PUT/PATCH with a body whose Content-Type is not
//                               application/json (parameters such as charset allowed)
//   431 headers_too_large       headers over header_limit (close)
//   405 method_not_allowed      a method outside http::Method
//   500 internal                a handler threw; the exception is logged, not sent
// Every response carries Server: tajir, X-Request-Id (the client's when it is 1-64 characters
// of [A-Za-z0-9._-], else 16 generated hex digits), and, unless the status forbids a body
// (1xx, 204, 304), Content-Length and a Content-Type. A response to HEAD has no body and the
// Content-Length of the GET. One info line per request goes to the logger:
//   request id=... method=GET target=/x status=200 bytes=123 us=456 remote=127.0.0.1:5555
// with the method and target as the client sent them, escaped (http::escape_for_log).
//
// Timeouts: request_timeout bounds reading one request from its first byte (and writing its
// response); idle_timeout bounds the wait for the next request on a kept-alive connection (the
// first request of a connection gets request_timeout). Either closes the connection silently.
//
// Shutdown: shutdown(grace) stops accepting (new connections are refused), closes idle
// connections, lets requests in flight finish and answers them with "Connection: close", and
// when no connection is left makes run() return. After `grace` it closes the sockets of the
// connections that remain; a handler still running keeps its io thread until it returns, so
// run() returns only then.
//
// Thread safety: start() before run(); run() once, from one thread; handle_signals(),
// stop_accepting(), shutdown(), port() and connections() from any thread, handlers included.
// The Router must outlive the Server and not change after start(). A Server runs once: it
// cannot be restarted after shutdown.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "http/router.h"
#include "util/status.h"

namespace spdlog {
class logger;
}

namespace tajir::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;   // 0: the kernel picks a free port; port() tells which after start()
  int io_threads = 0;  // 0: std::thread::hardware_concurrency()
  size_t body_limit = size_t{1} << 20;
  size_t header_limit = size_t{16} << 10;
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
  std::shared_ptr<spdlog::logger> logger;  // null: spdlog's default logger
};

class Server {
 public:
  using Options = ServerOptions;

  Server(Options options, const Router& router);
  ~Server();  // REQUIRES: run() is not running (it returned, or was never called)
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens (backlog: at least 1024) and begins accepting, to be served by run().
  // kInvalidArgument for a bad address, kUnavailable when the address is in use or cannot be
  // bound.
  Status start();

  // The bound port. REQUIRES: start() succeeded.
  uint16_t port() const;

  // Runs the io threads (the calling thread is one of them) until shutdown completes.
  // REQUIRES: start() succeeded.
  void run();

  // Closes the listening socket; connections already open are served as usual.
  void stop_accepting();

  // Graceful drain, as described above. Returns at once; run() returns when it is done.
  // Calling it again does nothing.
  void shutdown(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // Makes SIGINT and SIGTERM call shutdown(grace), for as long as the server runs. Safe from
  // any thread; before run() the handlers are in place when it returns, after run() began
  // they are installed by an io thread a moment later.
  void handle_signals(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // Open connections right now.
  size_t connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tajir::http
