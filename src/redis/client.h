// redis::Client: a small, blocking Redis client over hiredis 0.14 (RESP2), with a bounded
// connection pool, a timeout on every connect and command, pipelining, reconnection with
// backoff, and scripts run by EVALSHA with EVAL as the fallback.
//
//   auto ep = redis::parse_url("redis://127.0.0.1:6379");   // Result<Endpoint>
//   redis::Client client({.endpoint = *ep});
//   auto r = client.command({"SET", "k", "v"});             // Result<Reply>
//   static const redis::Script kIncr("return redis.call('INCR', KEYS[1])");
//   auto n = client.eval(kIncr, {"counter"}, {});
//
// Every call first calls util::blocking_point() (util/blocking.h): on a server's event loop it
// throws util::WouldBlock before anything is sent, and the request is run again on a worker.
// Failures are values, never exceptions: a connection that cannot be made, a timeout or a
// broken connection is kUnavailable (the connection is dropped, and made again on a later
// call); an error reply of the whole call (WRONGTYPE, a script's error) is kInternal. After a
// failed connect, calls fail at once (kUnavailable, "retrying in N ms") until the backoff,
// doubled on each failure from backoff_min up to backoff_max, has passed: an outage costs each
// request nothing but a check, not a connect timeout.
//
// Limits: one endpoint (no Cluster routing, no Sentinel); no AUTH, SELECT or TLS; no
// subscriptions. A pipeline's replies are all read even if one is an error reply.
//
// Thread safety: thread-safe; at most `pool_size` calls are in Redis at once, and a call that
// finds every connection busy waits for one up to the command timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

struct redisContext;

namespace tajir::redis {

struct Endpoint {
  std::string host;
  uint16_t port = 6379;
  std::string url() const { return "redis://" + host + ":" + std::to_string(port); }
};

// "redis://HOST:PORT" or "redis://HOST" (port 6379). kInvalidArgument otherwise.
Result<Endpoint> parse_url(std::string_view url);

// One reply, copied out of hiredis. A status reply ("OK") is kString.
struct Reply {
  enum class Type { kNil, kInteger, kString, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;  // kString, kError
  std::vector<Reply> elements;

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
};

// A Lua script, run by EVALSHA with EVAL after a NOSCRIPT (a restarted or flushed Redis).
class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;  // hex, as SCRIPT LOAD would answer
};

struct ClientOptions {
  Endpoint endpoint;
  size_t pool_size = 8;
  std::chrono::milliseconds connect_timeout{250};
  std::chrono::milliseconds command_timeout{250};
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{2000};
};

struct ClientStats {
  uint64_t calls = 0;       // commands and pipelines sent
  uint64_t errors = 0;      // calls that failed (unavailable, or an error reply)
  uint64_t reconnects = 0;  // connections made after the first
  uint64_t total_us = 0;    // time in the calls that reached Redis, summed
  bool connected = false;   // the last call reached Redis
};

using Command = std::vector<std::string_view>;

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One command ("SET", "k", "v"), its reply. An error reply is kInternal.
  Result<Reply> command(const Command& argv);
  // Several commands in one round trip: one reply per command, error replies included.
  Result<std::vector<Reply>> pipeline(const std::vector<Command>& commands);
  // EVALSHA (EVAL after NOSCRIPT) of `script` with these keys and arguments.
  Result<Reply> eval(const Script& script, const std::vector<std::string_view>& keys,
                     const std::vector<std::string_view>& args);
  // Several scripts in one round trip (each re-sent by EVAL if it answered NOSCRIPT).
  struct Eval {
    const Script* script;
    std::vector<std::string_view> keys, args;
  };
  Result<std::vector<Reply>> eval_pipeline(const std::vector<Eval>& evals);

  ClientStats stats() const;
  const ClientOptions& options() const { return options_; }

 private:
  struct Conn;
  // A connection for one call (made now if need be), or why there is none.
  Result<redisContext*> acquire();
  // Gives it back; `broken`: it failed, drop it.
  void release(redisContext* ctx, bool broken);
  Result<std::vector<Reply>> run(const std::vector<Command>& commands);
  Result<redisContext*> connect();
  void note_call(bool ok, std::chrono::steady_clock::time_point start, bool reached);

  const ClientOptions options_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::vector<redisContext*> idle_;  // GUARDED_BY(mu_): connected, not in use
  size_t in_use_ = 0;                // GUARDED_BY(mu_): handed out, or being connected
  std::chrono::steady_clock::time_point retry_at_{};  // GUARDED_BY(mu_): no connect before
  std::chrono::milliseconds backoff_{0};              // GUARDED_BY(mu_)
  bool ever_connected_ = false;                       // GUARDED_BY(mu_)
  ClientStats stats_;                                 // GUARDED_BY(mu_)
};

}  // namespace tajir::redis
