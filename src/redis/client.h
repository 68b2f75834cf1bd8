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
// Redis Cluster (`redis-cluster://H:P,H:P`, options.cluster): the client keeps a slot table
// (16384 slots -> the master that serves each, read by CLUSTER SHARDS from any node it knows)
// and a pool per master. A call goes to the master of its first key's slot (a command without
// keys, INFO or CONFIG, to any master; on_every_master() to each); a pipeline is split by
// master and its replies put back in order. Every key of one call must hash to one slot
// (hash tags, `{s42}`): else kInvalidArgument. -MOVED refreshes the table (at most every
// kRefreshEvery) and sends again, -ASK sends ASKING and the command to the node named, once,
// -TRYAGAIN sends again after a short sleep, all bounded (kMaxRedirects); -CLUSTERDOWN or a
// master that cannot be reached is kUnavailable and makes the next call read the table again
// (a failover's new master). A durable call (`durable`: writes whose loss in a failover would
// serve a stale value) is followed on the same connection by WAIT 1, and is kUnavailable if
// no replica acknowledged it while its master has one online. Without cluster, durable is
// ignored and nothing of this is done.
//
// Credentials (options.username, options.password) are sent with AUTH on each connection made.
//
// Limits: no Sentinel; no SELECT or TLS; no subscriptions; no reads from replicas. A
// pipeline's replies are all read even if one is an error reply.
//
// Thread safety: thread-safe; at most `pool_size` calls are in Redis at once, and a call that
// finds every connection busy waits for one up to the command timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
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
  std::string name() const { return host + ":" + std::to_string(port); }
  std::string url() const { return "redis://" + name(); }
  bool operator==(const Endpoint&) const = default;
};

// A key's Cluster slot: CRC16 (XMODEM) of its hash tag (what is between the first `{` and the
// next `}`, if not empty) or else of the whole key, mod 16384.
uint16_t key_slot(std::string_view key);
constexpr size_t kSlots = 16384;

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
  Endpoint endpoint;  // the Redis; in cluster mode, seeds[0]
  bool cluster = false;
  std::vector<Endpoint> seeds;  // cluster mode: the nodes the slot table is first read from
  size_t pool_size = 8;
  std::chrono::milliseconds connect_timeout{250};
  std::chrono::milliseconds command_timeout{250};
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{2000};
  // AUTH on every connection made (each master's too), when `password` is not empty: with
  // `username`, as that ACL user (Redis 6+); without, as the default user (requirepass).
  std::string username;
  std::string password;
};

struct ClientStats {
  uint64_t calls = 0;       // commands and pipelines sent
  uint64_t errors = 0;      // calls that failed (unavailable, or an error reply)
  uint64_t reconnects = 0;  // connections made after the first
  uint64_t total_us = 0;    // time in the calls that reached Redis, summed
  bool connected = false;   // the last call reached Redis
  bool cluster = false;
  size_t masters = 1;      // cluster: masters in the slot table
  uint64_t redirects = 0;  // cluster: -MOVED, -ASK and -TRYAGAIN replies followed
};

// "redis://HOST:PORT" or "redis://HOST" (port 6379): one Redis; "redis-cluster://HOST:PORT,
// HOST:PORT,..." (each port 6379 if left out): a Cluster and its seed nodes. Either may start
// with credentials, "redis://USER:PASSWORD@HOST:PORT" or "redis://:PASSWORD@HOST" (the default
// user), percent-encoded where they hold one of ":@/%". kInvalidArgument otherwise, whose
// message shows the URL without its password. The other options are left at their defaults.
Result<ClientOptions> parse_url(std::string_view url);

using Command = std::vector<std::string_view>;
class Pool;

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One command ("SET", "k", "v"), its reply. An error reply is kInternal.
  Result<Reply> command(const Command& argv, bool durable = false);
  // Several commands in one round trip (one per master): one reply per command, error replies
  // included.
  Result<std::vector<Reply>> pipeline(const std::vector<Command>& commands, bool durable = false);
  // EVALSHA (EVAL after NOSCRIPT) of `script` with these keys and arguments.
  Result<Reply> eval(const Script& script, const std::vector<std::string_view>& keys,
                     const std::vector<std::string_view>& args, bool durable = false);
  // Several scripts in one round trip (each re-sent by EVAL if it answered NOSCRIPT).
  struct Eval {
    const Script* script;
    std::vector<std::string_view> keys, args;
  };
  Result<std::vector<Reply>> eval_pipeline(const std::vector<Eval>& evals, bool durable = false);
  // A keyless command on every master (the one Redis without cluster), a reply each; fails if
  // any master fails.
  Result<std::vector<Reply>> on_every_master(const Command& argv);

  ClientStats stats() const;
  const ClientOptions& options() const { return options_; }

  static constexpr int kMaxRedirects = 4;
  static constexpr std::chrono::milliseconds kRefreshEvery{100};

 private:
  struct Master {
    Endpoint endpoint;
    size_t replicas = 0;  // online
  };
  // One command of a call in flight: where it goes.
  struct Routed {
    size_t index;                 // in the call's commands
    int slot;                     // -1: keyless
    std::optional<Endpoint> ask;  // an -ASK's node: ASKING first
  };
  Result<std::vector<Reply>> run_cluster(const std::vector<Command>& commands, bool durable);
  // The slot of a command's keys, -1 for none; kInvalidArgument if they span slots.
  static Result<int> command_slot(const Command& argv);
  Pool& pool(const Endpoint& e);
  // Reads the slot table again (CLUSTER SHARDS from the first node that answers), unless it
  // was read less than kRefreshEvery ago.
  void refresh();
  // The master of a slot (-1: any), if the table has one.
  std::optional<Master> master_of(int slot);
  // The master at `e` (an -ASK's node).
  Master master_at(const Endpoint& e);
  // After -MOVED: the slot goes to the node named, if a known master, and the table is stale.
  void note_moved(int slot, const std::string& error);
  // The table is read again before the next call (at most every kRefreshEvery).
  void mark_stale();

  const ClientOptions options_;
  std::unique_ptr<Pool> single_;  // not cluster: the one Redis
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Pool>> pools_;    // GUARDED_BY(mu_): by endpoint name
  std::vector<Master> masters_;                           // GUARDED_BY(mu_)
  std::vector<int16_t> slots_;                            // GUARDED_BY(mu_): -> masters_, -1
  std::vector<Endpoint> known_;                           // GUARDED_BY(mu_): every node seen
  bool stale_table_ = true;                               // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point refreshed_at_{};  // GUARDED_BY(mu_)
  std::mutex refresh_mu_;                                 // one refresh at a time
  std::atomic<bool> reached_{false};                      // cluster: the last call reached
  std::atomic<uint64_t> redirects_{0};
};

}  // namespace tajir::redis
