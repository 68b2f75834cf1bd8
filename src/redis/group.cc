#include "redis/group.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <map>
#include <random>

#include "redis/text.h"
#include "util/blocking.h"

namespace tajir::redis {
namespace {

using Clock = Group::Clock;

constexpr std::string_view kLog = "{tajir}:log", kSeq = "{tajir}:seq", kNodes = "{tajir}:nodes",
                           kApplied = "{tajir}:applied", kEpoch = "{tajir}:epoch";

// Redis's clock in ms, and the epoch: made here (ARGV[k]) if Redis has none, "ID:BORN_MS".
constexpr std::string_view kPrelude = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function epoch(fresh)
  local e = redis.call('GET', KEYS[1])
  if not e then
    e = fresh .. ':' .. now
    redis.call('SET', KEYS[1], e)
  end
  return e
end
)lua";

// KEYS: epoch, nodes, seq, log. ARGV: node, lease (ms), a fresh epoch id.
// {epoch, last seq, last entry's id, live nodes}; the node's lease ends at now + lease.
const Script kRenew(std::string(kPrelude) + R"lua(
local e = epoch(ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 600000)
local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
local id = '0-0'
if #last > 0 then id = last[1][1] end
return {e, redis.call('GET', KEYS[3]) or '0', id, redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf')}
)lua");

// KEYS: epoch, seq, log. ARGV: node, tags, max entries, lease (ms), clear (0/1), a fresh
// epoch id. {seq, ms the epoch is still young}: nodes of an older epoch may hold leases that
// long.
const Script kPublish(std::string(kPrelude) + R"lua(
local e = epoch(ARGV[6])
local born = tonumber(string.match(e, ':(%d+)$')) or 0
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 's', seq, 'n', ARGV[1], 't', ARGV[2],
           'c', ARGV[5])
return {seq, math.max(0, born + tonumber(ARGV[4]) - now)}
)lua");

// KEYS: epoch, applied. ARGV: the epoch the reader read, node, seq. Only in that epoch: a
// reader of a Redis that lost its data must not vouch for the new log.
const Script kAck(R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
)lua");

// KEYS: nodes, applied. ARGV: node, seq. How many other nodes whose lease holds have not
// applied seq.
const Script kLagging(std::string(kPrelude) + R"lua(
local lag = 0
for _, n in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  if n ~= ARGV[1] and tonumber(redis.call('HGET', KEYS[2], n) or '0') < tonumber(ARGV[2]) then
    lag = lag + 1
  end
end
return lag
)lua");

}  // namespace

ClientOptions prompt(ClientOptions o, std::chrono::milliseconds lease) {
  o.backoff_max = std::max(std::chrono::milliseconds(1), std::min(o.backoff_max, lease / 10));
  o.backoff_min = std::min(o.backoff_min, o.backoff_max);
  return o;
}

namespace {

int64_t now_ns() { return Clock::now().time_since_epoch().count(); }

std::string random_hex() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

std::string default_name() {
  char host[256] = "node";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + random_hex().substr(0, 8);
}

ClientOptions one_connection(ClientOptions o, std::chrono::milliseconds lease,
                             std::chrono::milliseconds block) {
  o = prompt(std::move(o), lease);
  o.pool_size = 1;
  o.command_timeout += block;  // XREAD BLOCK waits that long before it answers
  return o;
}

void raise_max(std::atomic<uint64_t>& m, uint64_t v) {
  uint64_t seen = m.load(std::memory_order_relaxed);
  while (v > seen && !m.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
  }
}

}  // namespace

Group::Group(GroupOptions options)
    : options_(std::move(options)),
      node_(options_.node.empty() ? default_name() : options_.node),
      reader_(one_connection(options_.client, options_.lease, options_.block)),
      writer_(prompt(options_.client, options_.lease)) {
  // spdlog's registry is made on first use; made here, before the thread, so that its first
  // use is not on two threads at once (TSan sees no guard in the uninstrumented library).
  spdlog::default_logger_raw();
  Position at;
  // The first lease before anything is served (or warmed): a tier filled before it would be
  // cleared when it comes.
  Renewal held = renew(at);
  thread_ = std::jthread([this, at = std::move(at), held](std::stop_token stop) mutable {
    auto next_renewal = Clock::now() + options_.lease / 4;
    while (!stop.stop_requested()) {
      if (Clock::now() >= next_renewal) {
        held = renew(at);
        if (!held.redis) resign();
        // Closed, tried again sooner.
        next_renewal = Clock::now() + (held.open ? options_.lease / 4 : options_.lease / 16);
      }
      if (held.redis) {
        read(at);
      } else {
        std::this_thread::sleep_for(std::min<Clock::duration>(options_.block, options_.lease / 8));
      }
    }
  });
}

Group::~Group() = default;

void Group::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  resign();
}

void Group::resign() {
  close();
  if (!options_.witness || resigned_) return;
  resigned_ = options_.witness->resign(node_);
  if (!resigned_) spdlog::debug("redis group: node {} could not resign in the witness", node_);
}

Group::Pass Group::enter() const {
  const uint64_t state = state_.load(std::memory_order_acquire);
  if (now_ns() >= valid_until_ns_.load(std::memory_order_acquire)) return Pass{};
  return Pass{state};
}

bool Group::still(Pass p) const {
  if (!p.open()) return false;
  std::atomic_thread_fence(std::memory_order_acquire);  // the reads of the local tier before
  return now_ns() < valid_until_ns_.load(std::memory_order_acquire) &&
         state_.load(std::memory_order_relaxed) == p.state;
}

void Group::open(int64_t until_ns) {
  valid_until_ns_.store(until_ns, std::memory_order_release);
  if (state_.load(std::memory_order_relaxed) % 2 == 0) state_.fetch_add(1);
}

void Group::close() {
  if (state_.load(std::memory_order_relaxed) % 2 == 1) state_.fetch_add(1);
}

Group::Renewal Group::renew(Position& at) {
  const int64_t sent = now_ns();
  const std::string lease_ms = std::to_string(options_.lease.count());
  auto r = reader_.eval(kRenew, {kEpoch, kNodes, kSeq, kLog}, {node_, lease_ms, random_hex()},
                        /*durable=*/true);
  const int64_t held_until = valid_until_ns_.load(std::memory_order_relaxed);
  if (!r.ok() || r->elements.size() != 4) {
    if (!r.ok()) spdlog::debug("redis group: lease not renewed: {}", r.status().message());
    const bool still = now_ns() < held_until;
    return {.redis = still, .open = still};
  }
  // The second lease, in the same renewal: only a node that holds Redis's beats, so a write
  // cut off from Redis can tell whether others still reach it.
  const bool beat = !options_.witness || options_.witness->beat(node_);
  const int64_t received = now_ns();
  if (beat) {
    resigned_ = false;
  } else {
    beats_missed_.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("redis group: node {} could not beat in the witness", node_);
  }
  const int64_t until =
      sent + std::chrono::duration_cast<std::chrono::nanoseconds>(options_.lease).count() * 9 / 10;
  live_.store(static_cast<uint64_t>(r->elements[3].integer), std::memory_order_relaxed);
  const std::string epoch = as_text(r->elements[0]);
  const bool lost = epoch != at.epoch || received >= held_until || !enter().open();
  if (!lost) {
    // Without a beat the local tier lapses by the clock, and the renewal after the next beat
    // clears it; the log is still read meanwhile, so writers do not wait on this node.
    if (beat) valid_until_ns_.store(until, std::memory_order_release);
    return {.redis = true, .open = beat || received < held_until};
  }
  // Invalidations may have passed this node by: start again from an empty tier at the log's end.
  close();
  if (!lapse_told_) {  // once per lapse, not per retried clear
    lapse_told_ = true;
    lease_lost_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn(
        "redis group: node {} lost its lease (in Redis or the database, or Redis its data): "
        "local tier cleared",
        node_);
  }
  const bool cleared = beat && (!options_.clear_all || options_.clear_all());
  at = Position{epoch, static_cast<uint64_t>(to_int(as_text(r->elements[1]))),
                as_text(r->elements[2])};
  applied_.store(at.seq, std::memory_order_relaxed);
  const std::string seq = std::to_string(at.seq);
  auto acked = reader_.eval(kAck, {kEpoch, kApplied}, {at.epoch, node_, seq}, /*durable=*/true);
  if (!acked.ok()) return {};
  // Not cleared (or no beat): closed, and tried again at the next renewal, which finds it so.
  // The log is read on meanwhile, so writers do not wait on this node.
  if (!cleared || until <= now_ns()) return {.redis = true, .open = false};
  open(until);
  lapse_told_ = false;
  return {.redis = true, .open = true};
}

void Group::read(Position& at) {
  const std::string block = std::to_string(options_.block.count());
  auto r = reader_.command({"XREAD", "COUNT", "512", "BLOCK", block, "STREAMS", kLog, at.id});
  if (!r.ok()) {
    std::this_thread::sleep_for(options_.block / 4);  // a failing Redis answers at once
    return;
  }
  if (r->is_nil() || r->elements.empty() || r->elements[0].elements.size() != 2) return;
  bool moved = false;
  for (const Reply& entry : r->elements[0].elements[1].elements) {
    if (entry.elements.size() != 2) continue;
    std::string_view seq_text, from, tags, clear;
    const auto& fields = entry.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      const std::string& f = fields[i].str;
      std::string_view v = fields[i + 1].str;
      if (f == "s") seq_text = v;
      if (f == "n") from = v;
      if (f == "t") tags = v;
      if (f == "c") clear = v;
    }
    const auto seq = static_cast<uint64_t>(to_int(seq_text));
    if (seq != at.seq + 1) {
      // Entries trimmed before this reader got to them (or a log begun again): what they
      // dropped is unknown, so everything goes.
      gaps_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("redis group: node {} missed log entries {}..{}: local tier cleared", node_,
                   at.seq + 1, seq);
      if (options_.clear_all && !options_.clear_all()) close();  // cleared at the next renewal
    } else if (from != node_ && options_.invalidate) {
      options_.invalidate(split_lines(tags), clear == "1");  // the writer applied its own
      entries_.fetch_add(1, std::memory_order_relaxed);
    }
    at.seq = seq;
    at.id = entry.elements[0].str;
    moved = true;
  }
  if (!moved) return;
  applied_.store(at.seq, std::memory_order_relaxed);
  const std::string seq = std::to_string(at.seq);
  (void)reader_.eval(kAck, {kEpoch, kApplied}, {at.epoch, node_, seq}, /*durable=*/true);
}

Group::Tries::Tries(const Group& group, Clock::time_point committed, bool ask_witness)
    : group_(group),
      committed_(committed),
      ask_witness_(ask_witness && group.options_.witness.has_value()),
      next_look_(Clock::now()) {}

Group::Reach Group::Tries::until(const std::function<bool()>& attempt) {
  const auto& lease = group_.options_.lease;
  while (true) {
    if (attempt()) return Reach::kReached;
    if (ended_) return *ended_;
    const auto now = Clock::now();
    if (!ask_witness_) {
      // Past a lease (and a tenth) after the commit, every other node still serving locally
      // has renewed since the commit, and any that could not renew in between cleared its
      // tier then.
      if (now >= committed_ + lease + lease / 10) return *(ended_ = Reach::kOthersOut);
    } else {
      // Only the witness can say that no other node serves what the write changed: nodes that
      // reach Redis while this one cannot go on beating.
      if (now >= next_look_) {
        if (all_out()) return *(ended_ = Reach::kOthersOut);
        next_look_ = now + lease / 16;
      }
      if (now >= committed_ + 2 * lease + lease / 2) return *(ended_ = Reach::kRefused);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool Group::Tries::all_out() {
  const auto asked = Clock::now();
  auto rows = group_.options_.witness->beats();
  const auto answered = Clock::now();
  if (!rows) return false;
  bool out = true;
  for (const Beat& b : *rows) {
    if (b.node == group_.node_ || b.resigned) continue;
    auto [it, first] = seen_.try_emplace(b.node, Seen{b.count, answered});
    if (!first && it->second.count != b.count) {
      it->second = Seen{b.count, answered};
    } else if (!first && asked - it->second.since >= group_.options_.lease) {
      continue;
    }
    out = false;
  }
  return out;
}

bool Group::publish_and_wait(const std::vector<std::string>& tags, bool clear, Tries& tries) {
  util::blocking_point();
  const auto start = Clock::now();
  std::string joined;
  for (const std::string& t : tags) (joined += t) += '\n';
  const std::string max_log = std::to_string(options_.max_log);
  const std::string lease_ms = std::to_string(options_.lease.count());
  Result<Reply> r = Status(StatusCode::kUnavailable, "not tried");
  const Reach reach = tries.until([&] {
    r = writer_.eval(kPublish, {kEpoch, kSeq, kLog},
                     {node_, joined, max_log, lease_ms, clear ? "1" : "0", random_hex()},
                     /*durable=*/true);
    return r.ok();
  });
  if (reach != Reach::kReached || r->elements.size() != 2) {
    const std::string why = r.ok() ? "bad reply" : r.status().message();
    if (reach == Reach::kRefused) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      spdlog::error(
          "redis group: a write's invalidation did not reach the log ({}) while other nodes "
          "still beat: not acknowledged",
          why);
      return false;
    }
    unpublished_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("redis group: a write's invalidation did not reach the log ({}); answered: {}",
                 why,
                 options_.witness ? "the witness shows no other node serving locally"
                                  : "a lease has passed since its commit");
    return true;
  }
  published_.fetch_add(1, std::memory_order_relaxed);
  if (const int64_t young = r->elements[1].integer; young > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(young) + options_.lease / 10);
  await(static_cast<uint64_t>(r->elements[0].integer), start + 2 * options_.lease);
  const auto us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
  waits_.fetch_add(1, std::memory_order_relaxed);
  wait_us_.fetch_add(us, std::memory_order_relaxed);
  raise_max(wait_max_us_, us);
  return true;
}

void Group::await(uint64_t seq, Clock::time_point limit) {
  const std::string seq_text = std::to_string(seq);
  auto pause = std::chrono::microseconds(100);
  while (true) {
    auto r = writer_.eval(kLagging, {kNodes, kApplied}, {node_, seq_text});
    if (r.ok() && r->integer == 0) return;
    if (Clock::now() >= limit) {
      spdlog::error("redis group: entry {} not applied by every live node after {} ms", seq,
                    2 * options_.lease.count());
      return;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
}

GroupStats Group::stats() const {
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return GroupStats{.node = node_,
                    .serving = still(enter()),
                    .applied = get(applied_),
                    .entries = get(entries_),
                    .published = get(published_),
                    .unpublished = get(unpublished_),
                    .refused = get(refused_),
                    .beats_missed = get(beats_missed_),
                    .lease_lost = get(lease_lost_),
                    .gaps = get(gaps_),
                    .waits = get(waits_),
                    .wait_us = get(wait_us_),
                    .wait_max_us = get(wait_max_us_),
                    .live_nodes = get(live_)};
}

}  // namespace tajir::redis
