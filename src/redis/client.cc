#include "redis/client.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

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

}  // namespace

Result<Endpoint> parse_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  auto bad = [&] {
    return InvalidArgument("'" + std::string(url) + "' is not redis://HOST:PORT", "redis");
  };
  if (!url.starts_with(kScheme)) return bad();
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  Endpoint ep;
  const size_t colon = rest.rfind(':');
  std::string_view host = colon == std::string_view::npos ? rest : rest.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view port = rest.substr(colon + 1);
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (port.empty() || ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535)
      return bad();
    ep.port = static_cast<uint16_t>(v);
  }
  if (host.empty() || host.find_first_of("/@?#") != std::string_view::npos) return bad();
  ep.host = std::string(host);
  return ep;
}

Script::Script(std::string source) : source_(std::move(source)), sha1_(sha1_hex(source_)) {}

Client::Client(ClientOptions options) : options_(std::move(options)) {}

Client::~Client() {
  for (redisContext* c : idle_) redisFree(c);
}

Result<redisContext*> Client::connect() {
  redisContext* ctx = redisConnectWithTimeout(
      options_.endpoint.host.c_str(), options_.endpoint.port, to_timeval(options_.connect_timeout));
  if (ctx == nullptr) return unavailable("cannot allocate a connection");
  if (ctx->err != 0 || redisSetTimeout(ctx, to_timeval(options_.command_timeout)) != REDIS_OK) {
    std::string why = "connect to " + options_.endpoint.url() + ": " + ctx->errstr;
    redisFree(ctx);
    return unavailable(std::move(why));
  }
  return ctx;
}

Result<redisContext*> Client::acquire() {
  util::blocking_point();
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

void Client::release(redisContext* ctx, bool broken) {
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

void Client::note_call(bool ok, std::chrono::steady_clock::time_point start, bool reached) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  std::lock_guard lock(mu_);
  ++stats_.calls;
  if (!ok) ++stats_.errors;
  if (reached) stats_.total_us += static_cast<uint64_t>(us.count());
  stats_.connected = reached;
}

Result<std::vector<Reply>> Client::run(const std::vector<Command>& commands) {
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

Result<Reply> Client::command(const Command& argv) {
  auto r = run({argv});
  if (!r.ok()) return r.status();
  if ((*r)[0].is_error()) return Internal("redis: " + (*r)[0].str);
  return std::move((*r)[0]);
}

Result<std::vector<Reply>> Client::pipeline(const std::vector<Command>& commands) {
  if (commands.empty()) return std::vector<Reply>{};
  return run(commands);
}

Result<std::vector<Reply>> Client::eval_pipeline(const std::vector<Eval>& evals) {
  std::vector<std::string> numkeys(evals.size());
  std::vector<Command> commands;
  for (size_t i = 0; i < evals.size(); ++i)
    commands.push_back(eval_command("EVALSHA", evals[i].script->sha1(), evals[i], numkeys[i]));
  auto replies = pipeline(commands);
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
  auto second = pipeline(commands);
  if (!second.ok()) return second.status();
  for (size_t j = 0; j < again.size(); ++j) (*replies)[again[j]] = std::move((*second)[j]);
  return replies;
}

Result<Reply> Client::eval(const Script& script, const std::vector<std::string_view>& keys,
                           const std::vector<std::string_view>& args) {
  auto r = eval_pipeline({{&script, keys, args}});
  if (!r.ok()) return r.status();
  if ((*r)[0].is_error()) return Internal("redis: " + (*r)[0].str);
  return std::move((*r)[0]);
}

ClientStats Client::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace tajir::redis
