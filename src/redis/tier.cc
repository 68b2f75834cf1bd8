#include "redis/tier.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "redis/text.h"
#include "util/blocking.h"

namespace tajir::redis {
namespace {

// KEYS: the value, the shop's counter. ARGV: the wall clock (unix ms).
// {1, body, tags, deadline, pttl} if every version the value recorded is current and its
// deadline has not passed; else {0, counter} (an outdated value is deleted).
const Script kRead(R"lua(
local r = redis.call('HMGET', KEYS[1], 'b', 't', 'k', 'd')
local function miss()
  return {0, redis.call('GET', KEYS[2]) or '0'}
end
if not r[1] then return miss() end
local d = tonumber(r[4]) or 0
local current = d == 0 or d > tonumber(ARGV[1])
local key = nil
for w in string.gmatch(r[3] or '', '[^\n]+') do
  if not current then break end
  if key == nil then
    key = w
  else
    current = redis.call('GET', key) == w
    key = nil
  end
end
if not current then
  redis.call('DEL', KEYS[1])
  return miss()
end
return {1, r[1], r[2], r[4], redis.call('PTTL', KEYS[1])}
)lua");

// KEYS: the value, the shop's counter, then the version keys it records. ARGV: the ticket, the
// TTL (ms), the body, the tags, the deadline. Stores only if the counter equals the ticket.
// A version key is made to live at least as long as the value (a missing one starts at 0).
const Script kStore(R"lua(
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[2])
local keep = ttl + 60000
local k = {}
for i = 3, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if not v then
    v = '0'
    redis.call('SET', KEYS[i], v, 'PX', keep)
  else
    local left = redis.call('PTTL', KEYS[i])
    if left >= 0 and left < keep then redis.call('PEXPIRE', KEYS[i], keep) end
  end
  k[#k + 1] = KEYS[i]
  k[#k + 1] = v
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'b', ARGV[3], 't', ARGV[4], 'k', table.concat(k, '\n'), 'd', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
)lua");

// KEYS: the shop's counter, then version keys. ARGV: the TTL (ms) of a version key this
// creates (no value records it yet; a store extends it). Raises each by one.
const Script kInvalidate(R"lua(
redis.call('INCR', KEYS[1])
for i = 2, #KEYS do
  redis.call('INCR', KEYS[i])
  if redis.call('PTTL', KEYS[i]) == -1 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
return #KEYS - 1
)lua");

std::string prefix(int64_t shop) { return "{s" + std::to_string(shop) + "}:"; }
std::string value_key(int64_t shop, std::string_view key) {
  return prefix(shop) + "v:" + std::string(key);
}
std::string counter_key(int64_t shop) { return prefix(shop) + "inv"; }
std::string generation_key(int64_t shop) { return prefix(shop) + "gen"; }
std::string version_key(int64_t shop, std::string_view tag) {
  return prefix(shop) + "tv:" + std::string(tag);
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "used_memory:1234\r\n" in an INFO reply, or -1.
int64_t info_field(std::string_view info, std::string_view name) {
  const std::string needle = "\n" + std::string(name) + ":";
  size_t at = info.find(needle);
  if (at == std::string_view::npos) {
    if (!info.starts_with(needle.substr(1))) return -1;
    at = 0;
  } else {
    at += 1;
  }
  at += name.size() + 1;
  return to_int(info.substr(at, info.find('\r', at) - at));
}

}  // namespace

std::string_view to_string(TierState s) {
  switch (s) {
    case TierState::kUp:
      return "up";
    case TierState::kRepairing:
      return "repairing";
    case TierState::kEvicting:
      return "evicting";
    case TierState::kDown:
      break;
  }
  return "down";
}

Tier::Tier(TierOptions options) : options_(std::move(options)), client_(options_.client) {
  check_policy();  // before the first get()
  if (options_.sample_interval.count() > 0)
    thread_ = std::jthread([this](std::stop_token stop) { background(stop); });
}

Tier::~Tier() {
  if (thread_.joinable()) {
    thread_.request_stop();
    wake_.notify_all();
  }
}

void Tier::background(std::stop_token stop) {
  while (!stop.stop_requested()) {
    repair();
    sample();
    std::unique_lock lock(wake_mu_);
    wake_.wait_for(lock, stop, options_.sample_interval, [] { return false; });
  }
}

Lookup Tier::get(int64_t shop, std::string_view key) {
  util::blocking_point();
  if (any_pending_.load() || evicting_.load()) {
    count(bypassed_);
    return {};
  }
  const std::string vkey = value_key(shop, key), ckey = counter_key(shop);
  const std::string now = std::to_string(wall_ms());
  const auto start = std::chrono::steady_clock::now();
  auto r = client_.eval(kRead, {vkey, ckey}, {now});
  if (!r.ok() || r->type != Reply::Type::kArray || r->elements.size() < 2) {
    count(errors_);
    count(bypassed_);
    return {};
  }
  read_us_.fetch_add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::steady_clock::now() - start)
                                               .count()),
                     std::memory_order_relaxed);
  count(reads_timed_);
  auto& e = r->elements;
  if (e[0].integer == 1 && e.size() == 5) {
    count(hits_);
    Found f{std::move(e[1].str), split_lines(e[2].str),
            std::chrono::milliseconds(std::max<int64_t>(1, e[4].integer)), to_int(e[3].str)};
    return {std::move(f), std::nullopt};
  }
  count(misses_);
  return {std::nullopt, Ticket{shop, as_text(e[1])}};
}

void Tier::put(const Ticket& ticket, std::string_view key, const Fill& fill) {
  if (options_.store_delay.count() > 0) std::this_thread::sleep_for(options_.store_delay);
  util::blocking_point();
  // A missed invalidation: nothing goes in until repaired; an evicting Redis: nothing at all.
  if (any_pending_.load() || evicting_.load()) return;
  int64_t ttl = fill.ttl.count() > 0 ? std::min(fill.ttl, options_.max_ttl).count()
                                     : options_.max_ttl.count();
  if (fill.wall_deadline_ms != 0) {
    const int64_t left = fill.wall_deadline_ms - wall_ms();
    if (left <= 0) return;
    ttl = std::min(ttl, left);
  }
  std::vector<std::string> keys{value_key(ticket.shop, key), counter_key(ticket.shop),
                                generation_key(ticket.shop)};
  for (std::string_view t : fill.shop_tags) keys.push_back(version_key(ticket.shop, t));
  std::string tags;
  if (fill.tags != nullptr) {
    for (const auto& t : *fill.tags) tags += t + "\n";
  }
  const std::string ttl_text = std::to_string(ttl),
                    deadline = std::to_string(fill.wall_deadline_ms);
  std::vector<std::string_view> key_views(keys.begin(), keys.end());
  auto r = client_.eval(kStore, key_views, {ticket.counter, ttl_text, fill.body, tags, deadline});
  if (!r.ok()) {
    count(errors_);
    return;
  }
  count(r->integer == 1 ? stores_ : stale_stores_);
}

void Tier::make_pending(const std::vector<ShopTags>& groups) {
  std::lock_guard lock(pending_mu_);
  for (const auto& g : groups) pending_.insert(g.shop);
  missed_.fetch_add(groups.size(), std::memory_order_relaxed);
  any_pending_.store(!pending_.empty());
}

bool Tier::raise_generations(const std::vector<int64_t>& shops) {
  std::vector<ShopTags> groups;
  for (int64_t s : shops) groups.push_back({s, {}});
  if (!groups.empty()) make_pending(groups);
  return repair();
}

bool Tier::invalidate(const std::vector<ShopTags>& groups) {
  if (groups.empty()) return true;
  util::blocking_point();
  if (any_pending_.load()) {  // Redis is not read until repaired: no need to wait on it now
    make_pending(groups);
    return false;
  }
  const std::string keep = std::to_string((options_.max_ttl + std::chrono::minutes(1)).count());
  std::vector<std::vector<std::string>> keys(groups.size());
  std::vector<std::vector<std::string_view>> views(groups.size());
  std::vector<Client::Eval> evals;
  for (size_t i = 0; i < groups.size(); ++i) {
    keys[i].push_back(counter_key(groups[i].shop));
    for (const auto& t : groups[i].tags) keys[i].push_back(version_key(groups[i].shop, t));
    views[i].assign(keys[i].begin(), keys[i].end());
    evals.push_back({&kInvalidate, views[i], {keep}});
  }
  auto r = client_.eval_pipeline(evals, /*durable=*/true);
  bool ok = r.ok();
  for (size_t i = 0; ok && i < r->size(); ++i) ok = !(*r)[i].is_error();
  if (!ok) {
    count(errors_);
    make_pending(groups);
    spdlog::warn(
        "redis: an invalidation did not reach Redis ({}): not reading it until the "
        "shops' generations are raised",
        r.ok() ? "error reply" : r.status().message());
    return false;
  }
  invalidations_.fetch_add(groups.size(), std::memory_order_relaxed);
  return true;
}

bool Tier::repair() {
  std::vector<int64_t> shops;
  {
    std::lock_guard lock(pending_mu_);
    shops.assign(pending_.begin(), pending_.end());
  }
  if (shops.empty()) return true;
  const std::string keep = std::to_string((options_.max_ttl + std::chrono::minutes(1)).count());
  std::vector<std::string> keys;
  for (int64_t s : shops) {
    keys.push_back(counter_key(s));
    keys.push_back(generation_key(s));
  }
  std::vector<Client::Eval> evals;
  for (size_t i = 0; i < shops.size(); ++i)
    evals.push_back({&kInvalidate, {keys[2 * i], keys[2 * i + 1]}, {keep}});
  auto r = client_.eval_pipeline(evals, /*durable=*/true);
  std::lock_guard lock(pending_mu_);
  if (!r.ok()) {
    count(errors_);
    return false;
  }
  for (size_t i = 0; i < shops.size(); ++i) {
    if ((*r)[i].is_error()) continue;
    pending_.erase(shops[i]);
    raised_.fetch_add(1, std::memory_order_relaxed);
  }
  any_pending_.store(!pending_.empty());
  if (pending_.empty())
    spdlog::info("redis: generations of {} shops raised; reading Redis again", shops.size());
  return pending_.empty();
}

void Tier::check_policy() {
  // An allkeys-* policy may evict a version key or a counter, which could make an old value
  // current again: such a Redis is not used. A Redis that does not answer CONFIG (renamed in
  // some managed services) is trusted as documented. In a Cluster, every master must hold it.
  auto r = client_.on_every_master({"CONFIG", "GET", "maxmemory-policy"});
  if (!r.ok()) return;
  bool evicting = false;
  for (const Reply& m : *r) {
    if (m.elements.size() != 2 || !m.elements[1].str.starts_with("allkeys")) continue;
    evicting = true;
    if (!evicting_.exchange(true))
      spdlog::error("redis: maxmemory-policy is {}, which may evict tag versions: not using Redis",
                    m.elements[1].str);
  }
  if (!evicting) evicting_.store(false);
}

void Tier::sample() {
  check_policy();
  auto r = client_.on_every_master({"INFO", "memory"});  // a Cluster's: summed
  if (!r.ok()) {
    count(errors_);
    return;
  }
  int64_t used = 0, peak = 0;
  for (const Reply& m : *r) {
    const int64_t u = info_field(m.str, "used_memory"), p = info_field(m.str, "used_memory_peak");
    used = used < 0 || u < 0 ? -1 : used + u;
    peak = peak < 0 || p < 0 ? -1 : peak + p;
  }
  used_memory_.store(used);
  used_memory_peak_.store(peak);
}

TierStats Tier::stats() const {
  TierStats s;
  s.hits = hits_.load();
  s.misses = misses_.load();
  s.bypassed = bypassed_.load();
  s.errors = errors_.load();
  s.stores = stores_.load();
  s.stale_stores = stale_stores_.load();
  s.invalidations = invalidations_.load();
  s.missed_invalidations = missed_.load();
  s.generations_raised = raised_.load();
  s.read_us = read_us_.load();
  s.reads_timed = reads_timed_.load();
  {
    std::lock_guard lock(pending_mu_);
    s.pending_shops = pending_.size();
  }
  const ClientStats c = client_.stats();
  s.connected = c.connected;
  s.cluster = c.cluster;
  s.masters = c.masters;
  s.redirects = c.redirects;
  s.state = !s.connected          ? TierState::kDown
            : evicting_.load()    ? TierState::kEvicting
            : s.pending_shops > 0 ? TierState::kRepairing
                                  : TierState::kUp;
  if (int64_t m = used_memory_.load(); m >= 0) s.used_memory = static_cast<uint64_t>(m);
  if (int64_t m = used_memory_peak_.load(); m >= 0) s.used_memory_peak = static_cast<uint64_t>(m);
  return s;
}

}  // namespace tajir::redis
