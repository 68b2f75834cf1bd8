// Server: the HTTP/1.1 server (Boost.Beast on Asio) that runs a Router's handlers.
//
//   Router router;  ... router.add(...) ...
//   Server server({.port = 8080}, router);
//   if (Status st = server.start(); !st.ok()) return fail(st);   // binds and listens
//   server.handle_signals(std::chrono::seconds(10));              // SIGINT/SIGTERM drain
//   std::printf("listening on %s:%u\n", "127.0.0.1", server.port());
//   server.run();                                                 // blocks until shut down
//
// Model: an event loop per io thread (its own io_context, run by that thread alone), each owning
// the connections it was handed; one acceptor hands new connections to the loops in turn. A
// connection is handled one request at a time: read a request, answer it, write the response,
// read the next, so pipelined requests are answered in order. Nothing on that path takes a lock
// shared with another loop.
//
// Answering: a GET, HEAD or OPTIONS is first routed on the loop itself, inside a
// util::NonBlockingScope: a handler that can answer from memory (a cache hit) does, and one that
// would wait (a miss, any SQL: util::blocking_point()) throws util::WouldBlock before it has
// changed anything. Such requests, and every other method, run on the worker pool (`workers`
// threads); the answer is written back on the connection's own loop. The pool's queue holds at
// most `worker_queue` requests: past it the server answers 503 overloaded with Retry-After: 1
// at once, rather than let latency grow. So a hit never waits behind the database.
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
//   503 overloaded              the worker pool's queue is full (with Retry-After: 1)
// Every response carries Server: tajir, X-Request-Id (the client's when it is 1-64 characters
// of [A-Za-z0-9._-], else 16 generated hex digits), and, unless the status forbids a body
// (1xx, 204, 304), Content-Length and a Content-Type. A response to HEAD has no body and the
// Content-Length of the GET. One line per request goes to the access log (http/access_log.h),
// written by a background thread.
//
// Timeouts: request_timeout bounds reading one request from its first byte (and writing its
// response); idle_timeout bounds the wait for the next request on a kept-alive connection (the
// first request of a connection gets request_timeout). Either closes the connection silently.
// They are checked by one coarse timer per loop (a tick of an eighth of the shortest timeout,
// 5-250 ms), not by a timer armed and cancelled for every read and write; the time a handler
// runs is not bounded by them.
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
  size_t workers = 4;                      // threads running what may wait; at least 1
  size_t worker_queue = 256;               // requests waiting for a worker; past it, 503
  std::shared_ptr<spdlog::logger> logger;  // null: spdlog's default logger
  // The access log: null is `logger`'s; access_log_enabled = false turns it off.
  std::shared_ptr<spdlog::logger> access_log;
  bool access_log_enabled = true;
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

  // The worker pool's figures (for /metrics). REQUIRES: start() succeeded.
  struct PoolStats {
    size_t workers = 0, queued = 0, busy = 0;
    uint64_t done = 0, rejected = 0;
  };
  PoolStats pool_stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tajir::http
