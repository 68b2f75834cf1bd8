#include "redis/client.h"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <thread>

#include "util/blocking.h"

namespace tajir::redis {
namespace {

Status unavailable(std::string what) {
  return Status(StatusCode::kUnavailable, "redis: " + std::move(what));
}

timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000),
          static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

Reply copy_reply(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(copy_reply(r->element[i]));
      break;
    default:
      break;  // nil
  }
  return out;
}

// SHA-1 (FIPS 180-4), for EVALSHA: a script's name is the hex digest of its source.
std::string sha1_hex(std::string_view data) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string m(data);
  const uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  m += '\x80';
  while (m.size() % 64 != 56) m += '\0';
  for (int i = 7; i >= 0; --i) m += static_cast<char>((bits >> (8 * i)) & 0xff);
  auto rol = [](uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  for (size_t off = 0; off < m.size(); off += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(m.data() + off + 4 * i);
      w[i] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    }
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d), k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d, k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d, k = 0xCA62C1D6;
      }
      const uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  char hex[41];
  for (int i = 0; i < 5; ++i) std::snprintf(hex + 8 * i, 9, "%08x", h[i]);
  return std::string(hex, 40);
}

Command eval_command(std::string_view verb, std::string_view script, const Client::Eval& e,
                     std::string& numkeys) {
  numkeys = std::to_string(e.keys.size());
  Command c{verb, script, numkeys};
  c.insert(c.end(), e.keys.begin(), e.keys.end());
  c.insert(c.end(), e.args.begin(), e.args.end());
  return c;
}

// "HOST:PORT" or "HOST" (port 6379).
std::optional<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint ep;
  const size_t colon = text.rfind(':');
  std::string_view host = colon == std::string_view::npos ? text : text.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view port = text.substr(colon + 1);
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (port.empty() || ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535)
      return std::nullopt;
    ep.port = static_cast<uint16_t>(v);
  }
  if (host.empty() || host.find_first_of("/@?#,") != std::string_view::npos) return std::nullopt;
  ep.host = std::string(host);
  return ep;
}

bool has_prefix(const Reply& r, std::string_view p) { return r.is_error() && r.str.starts_with(p); }

// "MOVED 3999 127.0.0.1:6381" -> the node.
std::optional<Endpoint> redirect_target(const std::string& error) {
  const size_t space = error.rfind(' ');
  if (space == std::string::npos) return std::nullopt;
  return parse_endpoint(std::string_view(error).substr(space + 1));
}

// A command's keys, as far as the client routes by them: EVAL's and EVALSHA's KEYS, XREAD's
// streams, else argv[1]; none for the commands that have none.
std::vector<std::string_view> command_keys(const Command& argv) {
  if (argv.size() < 2) return {};
  std::string verb(argv[0]);
  for (char& ch : verb) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  static constexpr std::array<std::string_view, 13> kKeyless = {
      "INFO",   "CONFIG", "TIME",     "PING",    "SCRIPT", "CLUSTER", "WAIT",
      "ASKING", "DBSIZE", "FLUSHALL", "FLUSHDB", "CLIENT", "ECHO"};
  if (std::find(kKeyless.begin(), kKeyless.end(), verb) != kKeyless.end()) return {};
  if (verb == "EVAL" || verb == "EVALSHA") {
    if (argv.size() < 3) return {};
    size_t n = 0;
    std::from_chars(argv[2].data(), argv[2].data() + argv[2].size(), n);
    n = std::min(n, argv.size() - 3);
    return {argv.begin() + 3, argv.begin() + 3 + static_cast<ptrdiff_t>(n)};
  }
  if (verb == "XREAD" || verb == "XREADGROUP") {
    auto s = std::find_if(argv.begin(), argv.end(),
                          [](std::string_view a) { return a == "STREAMS" || a == "streams"; });
    if (s == argv.end()) return {};
    const size_t first = static_cast<size_t>(s - argv.begin()) + 1;
    const size_t n = (argv.size() - first) / 2;
    return {argv.begin() + static_cast<ptrdiff_t>(first),
            argv.begin() + static_cast<ptrdiff_t>(first + n)};
  }
  return {argv[1]};
}

}  // namespace

uint16_t key_slot(std::string_view key) {
  if (const size_t open = key.find('{'); open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  uint16_t crc = 0;  // CRC16-CCITT (XMODEM): polynomial 0x1021, initial 0
  for (char ch : key) {
    crc ^= static_cast<uint16_t>(static_cast<unsigned char>(ch) << 8);
    for (int i = 0; i < 8; ++i)
      crc = static_cast<uint16_t>(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return static_cast<uint16_t>(crc % kSlots);
}

// "%40" -> "@", and so on; nullopt for a % not followed by two hex digits.
std::optional<std::string> percent_decoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= s.size()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || p != s.data() + i + 3) return std::nullopt;
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

Result<ClientOptions> parse_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://", kCluster = "redis-cluster://";
  ClientOptions o;
  o.cluster = url.starts_with(kCluster);
  const bool single = url.starts_with(kScheme);
  std::string_view rest = url.substr(o.cluster ? kCluster.size() : single ? kScheme.size() : 0);
  // The credentials: up to the last '@' (a password may hold one, percent-encoded or not).
  const size_t at_sign = rest.rfind('@');
  const std::string_view userinfo =
      at_sign == std::string_view::npos ? std::string_view() : rest.substr(0, at_sign);
  auto bad = [&] {
    std::string shown(url);
    if (at_sign != std::string_view::npos) {
      const size_t from = static_cast<size_t>(userinfo.data() - url.data());
      shown.replace(from, userinfo.size(), "***");
    }
    return InvalidArgument("'" + shown +
                               "' is not redis://[USER:PASSWORD@]HOST:PORT or "
                               "redis-cluster://[USER:PASSWORD@]HOST:PORT,...",
                           "redis");
  };
  if (!o.cluster && !single) return bad();
  if (at_sign != std::string_view::npos) {
    const size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) return bad();  // a user without a password
    auto user = percent_decoded(userinfo.substr(0, colon));
    auto password = percent_decoded(userinfo.substr(colon + 1));
    if (!user || !password || password->empty()) return bad();
    o.username = std::move(*user);
    o.password = std::move(*password);
    rest.remove_prefix(at_sign + 1);
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (!o.cluster) {
    auto ep = parse_endpoint(rest);
    if (!ep) return bad();
    o.endpoint = std::move(*ep);
    return o;
  }
  for (size_t at = 0; at <= rest.size();) {
    const size_t comma = std::min(rest.find(',', at), rest.size());
    auto ep = parse_endpoint(rest.substr(at, comma - at));
    if (!ep) return bad();
    o.seeds.push_back(std::move(*ep));
    at = comma + 1;
  }
  o.endpoint = o.seeds.front();
  return o;
}

Script::Script(std::string source) : source_(std::move(source)), sha1_(sha1_hex(source_)) {}

// Pool: the connections to one endpoint, their backoff after a failed connect, their stats.
// Thread-safe.
class Pool {
 public:
  Pool(Endpoint endpoint, const ClientOptions& o) : endpoint_(std::move(endpoint)), options_(o) {}
  ~Pool() {
    for (redisContext* c : idle_) redisFree(c);
  }
  // The commands in one round trip on one connection: a reply each.
  Result<std::vector<Reply>> run(const std::vector<Command>& commands);
  ClientStats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  // A connection for one call (made now if need be), or why there is none.
  Result<redisContext*> acquire();
  // Gives it back; `broken`: it failed, drop it.
  void release(redisContext* ctx, bool broken);
  Result<redisContext*> connect();
  void note_call(bool ok, std::chrono::steady_clock::time_point start, bool reached);

  const Endpoint endpoint_;
  const ClientOptions& options_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::vector<redisContext*> idle_;  // GUARDED_BY(mu_): connected, not in use
  size_t in_use_ = 0;                // GUARDED_BY(mu_): handed out, or being connected
  std::chrono::steady_clock::time_point retry_at_{};  // GUARDED_BY(mu_): no connect before
  std::chrono::milliseconds backoff_{0};              // GUARDED_BY(mu_)
  bool ever_connected_ = false;                       // GUARDED_BY(mu_)
  ClientStats stats_;                                 // GUARDED_BY(mu_)
};

Result<redisContext*> Pool::connect() {
  redisContext* ctx = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                              to_timeval(options_.connect_timeout));
  if (ctx == nullptr) return unavailable("cannot allocate a connection");
  if (ctx->err != 0 || redisSetTimeout(ctx, to_timeval(options_.command_timeout)) != REDIS_OK) {
    std::string why = "connect to " + endpoint_.url() + ": " + ctx->errstr;
    redisFree(ctx);
    return unavailable(std::move(why));
  }
  if (!options_.password.empty()) {
    std::vector<std::string> argv{"AUTH"};
    if (!options_.username.empty()) argv.push_back(options_.username);
    argv.push_back(options_.password);
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const std::string& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(ctx, static_cast<int>(args.size()), args.data(), lens.data()));
    std::string why;
    if (reply == nullptr) {
      why = "AUTH at " + endpoint_.url() + ": " + ctx->errstr;
    } else if (reply->type == REDIS_REPLY_ERROR) {
      // WRONGPASS, or "AUTH <password> called without any password configured".
      why = "AUTH at " + endpoint_.url() + " refused: " + std::string(reply->str, reply->len);
    }
    if (reply != nullptr) freeReplyObject(reply);
    if (!why.empty()) {
      redisFree(ctx);
      return unavailable(std::move(why));
    }
  }
  return ctx;
}

Result<redisContext*> Pool::acquire() {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + options_.command_timeout;
  while (idle_.empty() && in_use_ >= options_.pool_size) {
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        in_use_ >= options_.pool_size)
      return unavailable("every connection busy");
  }
  ++in_use_;
  if (!idle_.empty()) {
    redisContext* c = idle_.back();
    idle_.pop_back();
    return c;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now < retry_at_) {
    --in_use_;
    freed_.notify_one();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now);
    return unavailable("down, retrying in " + std::to_string(left.count()) + " ms");
  }
  lock.unlock();
  auto ctx = connect();  // no lock held while connecting
  lock.lock();
  if (!ctx.ok()) {
    --in_use_;
    freed_.notify_one();
    // Once per outage (the first failure since a connect worked, or since the start), so that
    // a Redis that is away, or refuses the credentials, is in the log and not only in stats.
    if (backoff_.count() == 0) spdlog::warn("{}; trying again", ctx.status().message());
    backoff_ = std::clamp(backoff_ * 2, options_.backoff_min, options_.backoff_max);
    retry_at_ = std::chrono::steady_clock::now() + backoff_;
    stats_.connected = false;
    return ctx.status();
  }
  backoff_ = std::chrono::milliseconds(0);
  if (ever_connected_) ++stats_.reconnects;
  ever_connected_ = true;
  return ctx;
}

void Pool::release(redisContext* ctx, bool broken) {
  std::vector<redisContext*> drop;
  {
    std::lock_guard lock(mu_);
    --in_use_;
    if (broken) {
      // The others most likely lost Redis too (a restart): made again on their next use, so
      // one call finds out, not one per pooled connection.
      drop.swap(idle_);
      drop.push_back(ctx);
    } else {
      idle_.push_back(ctx);
    }
    freed_.notify_all();
  }
  for (redisContext* c : drop) redisFree(c);
}

void Pool::note_call(bool ok, std::chrono::steady_clock::time_point start, bool reached) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  std::lock_guard lock(mu_);
  ++stats_.calls;
  if (!ok) ++stats_.errors;
  if (reached) stats_.total_us += static_cast<uint64_t>(us.count());
  stats_.connected = reached;
}

Result<std::vector<Reply>> Pool::run(const std::vector<Command>& commands) {
  const auto start = std::chrono::steady_clock::now();
  auto ctx = acquire();
  if (!ctx.ok()) {
    note_call(false, start, false);
    return ctx.status();
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  bool broken = false;
  for (const Command& c : commands) {
    argv.clear();
    lens.clear();
    for (std::string_view a : c) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(*ctx, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
        REDIS_OK) {
      broken = true;
      break;
    }
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  while (!broken && replies.size() < commands.size()) {
    void* raw = nullptr;
    if (redisGetReply(*ctx, &raw) != REDIS_OK || raw == nullptr) {
      broken = true;
      break;
    }
    replies.push_back(copy_reply(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  if (broken) {
    // A timeout or a lost connection: its replies may still come, so the connection goes.
    std::string why = (*ctx)->errstr[0] != '\0' ? (*ctx)->errstr : "connection lost";
    release(*ctx, true);
    note_call(false, start, false);
    return unavailable(std::move(why));
  }
  release(*ctx, false);
  const bool all_ok =
      std::none_of(replies.begin(), replies.end(), [](const Reply& r) { return r.is_error(); });
  note_call(all_ok, start, true);
  return replies;
}

Client::Client(ClientOptions options) : options_(std::move(options)) {
  if (!options_.cluster) {
    single_ = std::make_unique<Pool>(options_.endpoint, options_);
    return;
  }
  slots_.assign(kSlots, -1);
  known_ = options_.seeds;
}

Client::~Client() = default;

Pool& Client::pool(const Endpoint& e) {
  std::lock_guard lock(mu_);
  auto& p = pools_[e.name()];
  if (!p) p = std::make_unique<Pool>(e, options_);
  return *p;  // pools are never removed
}

Result<int> Client::command_slot(const Command& argv) {
  int slot = -1;
  for (std::string_view k : command_keys(argv)) {
    const int s = key_slot(k);
    if (slot >= 0 && s != slot)
      return InvalidArgument("keys of one call in two Cluster slots: " + std::string(k), "redis");
    slot = s;
  }
  return slot;
}

std::optional<Client::Master> Client::master_of(int slot) {
  std::lock_guard lock(mu_);
  if (masters_.empty()) return std::nullopt;
  if (slot < 0) return masters_.front();
  const int m = slots_[static_cast<size_t>(slot)];
  if (m < 0) return std::nullopt;
  return masters_[static_cast<size_t>(m)];
}

namespace {

// A CLUSTER SHARDS field ("slots", "nodes", "role"...) of a flat key-value array.
const Reply* field(const Reply& map, std::string_view name) {
  for (size_t i = 0; i + 1 < map.elements.size(); i += 2)
    if (map.elements[i].str == name) return &map.elements[i + 1];
  return nullptr;
}

int64_t number(const Reply& r) {
  if (r.type == Reply::Type::kInteger) return r.integer;
  int64_t v = -1;
  std::from_chars(r.str.data(), r.str.data() + r.str.size(), v);
  return v;
}

}  // namespace

void Client::refresh() {
  std::lock_guard one(refresh_mu_);
  std::vector<Endpoint> candidates;
  {
    std::lock_guard lock(mu_);
    if (!masters_.empty() && std::chrono::steady_clock::now() - refreshed_at_ < kRefreshEvery)
      return;
    refreshed_at_ = std::chrono::steady_clock::now();
    for (const Master& m : masters_) candidates.push_back(m.endpoint);
    for (const Endpoint& e : known_)
      if (std::find(candidates.begin(), candidates.end(), e) == candidates.end())
        candidates.push_back(e);
  }
  for (const Endpoint& at : candidates) {
    auto r = pool(at).run({{"CLUSTER", "SHARDS"}});
    if (!r.ok() || (*r)[0].type != Reply::Type::kArray || (*r)[0].elements.empty()) continue;
    std::vector<Master> masters;
    std::vector<int16_t> slots(kSlots, -1);
    std::vector<Endpoint> seen;
    for (const Reply& shard : (*r)[0].elements) {
      const Reply* ranges = field(shard, "slots");
      const Reply* nodes = field(shard, "nodes");
      if (ranges == nullptr || nodes == nullptr) continue;
      std::optional<Master> master;
      size_t replicas = 0;
      for (const Reply& n : nodes->elements) {
        const Reply *ip = field(n, "ip"), *port = field(n, "port"), *role = field(n, "role"),
                    *health = field(n, "health");
        if (ip == nullptr || port == nullptr || role == nullptr) continue;
        Endpoint e{ip->str, static_cast<uint16_t>(number(*port))};
        seen.push_back(e);
        const bool failed = health != nullptr && health->str == "failed";
        if (role->str == "master" && !failed) master = Master{e, 0};
        if (role->str != "master" && !failed) ++replicas;
      }
      if (!master || ranges->elements.empty()) continue;
      master->replicas = replicas;
      masters.push_back(*master);
      for (size_t i = 0; i + 1 < ranges->elements.size(); i += 2) {
        const int64_t from = number(ranges->elements[i]), to = number(ranges->elements[i + 1]);
        for (int64_t s = std::max<int64_t>(0, from); s <= to && s < int64_t{kSlots}; ++s)
          slots[static_cast<size_t>(s)] = static_cast<int16_t>(masters.size() - 1);
      }
    }
    if (masters.empty()) continue;
    std::lock_guard lock(mu_);
    masters_ = std::move(masters);
    slots_ = std::move(slots);
    for (const Endpoint& e : seen)
      if (std::find(known_.begin(), known_.end(), e) == known_.end()) known_.push_back(e);
    stale_table_ = false;
    return;
  }
}

void Client::mark_stale() {
  std::lock_guard lock(mu_);
  stale_table_ = true;
}

void Client::note_moved(int slot, const std::string& error) {
  auto to = redirect_target(error);
  if (!to || slot < 0) return;
  std::lock_guard lock(mu_);
  stale_table_ = true;
  size_t m = 0;
  while (m < masters_.size() && !(masters_[m].endpoint == *to)) ++m;
  // A master the table does not know yet (a failover's): waited for, to be safe, until read.
  if (m == masters_.size()) masters_.push_back(Master{*to, 1});
  slots_[static_cast<size_t>(slot)] = static_cast<int16_t>(m);
}

Client::Master Client::master_at(const Endpoint& e) {
  std::lock_guard lock(mu_);
  for (const Master& m : masters_)
    if (m.endpoint == e) return m;
  return Master{e, 1};  // not in the table yet: waited for, to be safe
}

Result<std::vector<Reply>> Client::run_cluster(const std::vector<Command>& commands, bool durable) {
  std::vector<Routed> work;
  for (size_t i = 0; i < commands.size(); ++i) {
    auto slot = command_slot(commands[i]);
    if (!slot.ok()) return slot.status();
    work.push_back({i, *slot, std::nullopt});
  }
  bool stale;
  {
    std::lock_guard lock(mu_);
    stale = stale_table_;
  }
  if (stale) refresh();
  const std::string wait_ms =
      std::to_string(std::max<int64_t>(1, options_.command_timeout.count() / 2));
  std::vector<Reply> replies(commands.size());
  auto pause = std::chrono::milliseconds(5);
  for (int round = 0; round <= kMaxRedirects && !work.empty(); ++round) {
    std::vector<std::pair<Master, std::vector<Routed>>> batches;  // by node
    for (Routed& w : work) {
      std::optional<Master> m = w.ask ? master_at(*w.ask) : master_of(w.slot);
      if (!m) {
        mark_stale();
        reached_.store(false);
        return unavailable("no master known for slot " + std::to_string(w.slot));
      }
      auto b = std::find_if(batches.begin(), batches.end(),
                            [&](const auto& x) { return x.first.endpoint == m->endpoint; });
      if (b == batches.end()) b = batches.insert(batches.end(), {*m, {}});
      b->second.push_back(std::move(w));
    }
    std::vector<Routed> again;
    bool moved = false, busy = false;
    for (auto& [master, items] : batches) {
      std::vector<Command> batch;
      for (const Routed& w : items) {
        if (w.ask) batch.push_back({"ASKING"});
        batch.push_back(commands[w.index]);
      }
      const bool wait = durable && master.replicas > 0;
      if (wait) batch.push_back({"WAIT", "1", wait_ms});
      auto r = pool(master.endpoint).run(batch);
      if (!r.ok()) {
        mark_stale();  // a failover's new master, if that is what this is
        reached_.store(false);
        return r.status();
      }
      reached_.store(true);
      if (wait && (r->back().type != Reply::Type::kInteger || r->back().integer < 1)) {
        mark_stale();
        return unavailable("a write on " + master.endpoint.name() + " reached no replica (WAIT)");
      }
      size_t at = 0;
      for (Routed& w : items) {
        if (w.ask) ++at;  // ASKING's OK
        Reply& rep = (*r)[at++];
        if (has_prefix(rep, "MOVED ")) {
          note_moved(w.slot, rep.str);
          moved = true;
          again.push_back({w.index, w.slot, std::nullopt});
        } else if (has_prefix(rep, "ASK ") && !w.ask && redirect_target(rep.str)) {
          again.push_back({w.index, w.slot, redirect_target(rep.str)});
        } else if (has_prefix(rep, "TRYAGAIN")) {
          busy = true;
          again.push_back({w.index, w.slot, std::nullopt});
        } else if (has_prefix(rep, "CLUSTERDOWN")) {
          mark_stale();
          return unavailable(rep.str);
        } else {
          replies[w.index] = std::move(rep);
        }
      }
    }
    redirects_.fetch_add(again.size(), std::memory_order_relaxed);
    if (moved) refresh();
    if (busy) {
      std::this_thread::sleep_for(pause);
      pause *= 2;
    }
    work = std::move(again);
  }
  if (!work.empty()) return unavailable("still redirected after " + std::to_string(kMaxRedirects));
  return replies;
}

Result<std::vector<Reply>> Client::pipeline(const std::vector<Command>& commands, bool durable) {
  if (commands.empty()) return std::vector<Reply>{};
  util::blocking_point();
  if (!options_.cluster) return single_->run(commands);
  return run_cluster(commands, durable);
}

Result<Reply> Client::command(const Command& argv, bool durable) {
  auto r = pipeline({argv}, durable);
  if (!r.ok()) return r.status();
  if ((*r)[0].is_error()) return Internal("redis: " + (*r)[0].str);
  return std::move((*r)[0]);
}

Result<std::vector<Reply>> Client::on_every_master(const Command& argv) {
  util::blocking_point();
  if (!options_.cluster) return single_->run({argv});
  bool stale;
  std::vector<Master> masters;
  {
    std::lock_guard lock(mu_);
    stale = stale_table_;
  }
  if (stale) refresh();
  {
    std::lock_guard lock(mu_);
    masters = masters_;
  }
  if (masters.empty()) return unavailable("no master known");
  std::vector<Reply> out;
  for (const Master& m : masters) {
    auto r = pool(m.endpoint).run({argv});
    reached_.store(r.ok());
    if (!r.ok()) {
      mark_stale();
      return r.status();
    }
    if ((*r)[0].is_error()) return Internal("redis: " + m.endpoint.name() + ": " + (*r)[0].str);
    out.push_back(std::move((*r)[0]));
  }
  return out;
}

Result<std::vector<Reply>> Client::eval_pipeline(const std::vector<Eval>& evals, bool durable) {
  std::vector<std::string> numkeys(evals.size());
  std::vector<Command> commands;
  for (size_t i = 0; i < evals.size(); ++i)
    commands.push_back(eval_command("EVALSHA", evals[i].script->sha1(), evals[i], numkeys[i]));
  auto replies = pipeline(commands, durable);
  if (!replies.ok()) return replies.status();
  // Scripts Redis does not know (it restarted, or SCRIPT FLUSH): sent again whole, which also
  // loads them for the next EVALSHA.
  std::vector<size_t> again;
  commands.clear();
  for (size_t i = 0; i < evals.size(); ++i) {
    if ((*replies)[i].is_error() && (*replies)[i].str.starts_with("NOSCRIPT")) {
      again.push_back(i);
      commands.push_back(eval_command("EVAL", evals[i].script->source(), evals[i], numkeys[i]));
    }
  }
  if (again.empty()) return replies;
  auto second = pipeline(commands, durable);
  if (!second.ok()) return second.status();
  for (size_t j = 0; j < again.size(); ++j) (*replies)[again[j]] = std::move((*second)[j]);
  return replies;
}

Result<Reply> Client::eval(const Script& script, const std::vector<std::string_view>& keys,
                           const std::vector<std::string_view>& args, bool durable) {
  auto r = eval_pipeline({{&script, keys, args}}, durable);
  if (!r.ok()) return r.status();
  if ((*r)[0].is_error()) return Internal("redis: " + (*r)[0].str);
  return std::move((*r)[0]);
}

ClientStats Client::stats() const {
  if (!options_.cluster) return single_->stats();
  std::lock_guard lock(mu_);
  ClientStats s;
  for (const auto& [name, p] : pools_) {
    const ClientStats one = p->stats();
    s.calls += one.calls;
    s.errors += one.errors;
    s.reconnects += one.reconnects;
    s.total_us += one.total_us;
  }
  s.connected = reached_.load();
  s.cluster = true;
  s.masters = masters_.size();
  s.redirects = redirects_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace tajir::redis
