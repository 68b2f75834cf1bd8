#include "api/read_cache.h"

#include <spdlog/spdlog.h>
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>

#include "http/errors.h"
#include "pos/pos.h"
#include "util/blocking.h"

namespace tajir::api {
namespace {

// The fingerprint the engine computed when the value was stored: a hit hashes nothing.
std::string etag_of(uint64_t fingerprint) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(fingerprint));
  return buf;
}

bool etag_matches(std::optional<std::string_view> header, std::string_view etag) {
  if (!header) return false;
  std::string_view h = *header;
  if (h == "*") return true;
  // A list of tags, possibly weak ("W/"): any equal one matches.
  size_t pos = 0;
  while (pos < h.size()) {
    size_t comma = h.find(',', pos);
    std::string_view item =
        h.substr(pos, comma == std::string_view::npos ? h.size() - pos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

// Runs a filler for the engine (Cache::get_or_fill, warming).
Result<cache::Loaded> load(const Filler& fill) {
  auto filled = fill();
  if (!filled.ok()) return filled.status();
  return cache::Loaded{std::move(filled->body), std::move(filled->tags), filled->ttl,
                       filled->wall_deadline_ms, filled->version};
}

http::Response with_cache_headers(http::Response r, bool hit, uint64_t fingerprint,
                                  const http::Request& req) {
  std::string etag = etag_of(fingerprint);
  if (etag_matches(req.header("If-None-Match"), etag)) {
    http::Response not_modified = http::Response::empty(304);
    not_modified.set_header("ETag", etag);
    not_modified.set_header("X-Cache", hit ? "HIT" : "MISS");
    return not_modified;
  }
  r.set_header("ETag", std::move(etag));
  r.set_header("X-Cache", hit ? "HIT" : "MISS");
  r.set_header("Cache-Control", "private, no-cache");
  return r;
}

}  // namespace

ReadCache::ReadCache(cache::Cache* cache, pos::CacheMap map, redis::Tier* redis, ShopList shops,
                     redis::Group* group)
    : cache_(cache),
      redis_(cache != nullptr ? redis : nullptr),
      shop_list_(std::move(shops)),
      group_(cache != nullptr ? group : nullptr),
      map_(map),
      shops_(cache) {
  for (const pos::CacheType& t : pos::kCacheTypes) {
    types_.emplace_back(std::string(t.name), cache_ != nullptr ? cache_->register_type(t.name) : 0);
  }
}

cache::TypeId ReadCache::type_id(std::string_view type) const {
  for (const auto& [name, id] : types_) {
    if (name == type) return id;
  }
  return 0;
}

std::string ReadCache::key(int64_t shop, std::string_view type, std::string_view path) {
  return std::to_string(shop) + "|" + std::string(type) + "|" + std::string(path);
}

std::string ReadCache::detail_key(int64_t shop, std::string_view type, int64_t id) {
  return key(shop, type, "/api/" + std::string(type) + "/" + std::to_string(id));
}

std::optional<ReadCache::Read> ReadCache::read_of(std::string_view key) {
  size_t shop_end = key.find('|');
  size_t type_end = shop_end == std::string_view::npos ? shop_end : key.find('|', shop_end + 1);
  if (type_end == std::string_view::npos || shop_end == 0) return std::nullopt;
  std::string_view shop = key.substr(0, shop_end), target = key.substr(type_end + 1);
  if (!std::all_of(shop.begin(), shop.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !target.starts_with('/')) {
    return std::nullopt;
  }
  return Read{std::string(shop), target};
}

std::string ReadCache::key(int64_t shop, std::string_view type, const Query& query) {
  // The decoded path, each segment percent-encoded again: an escaped '?' cannot spell a query,
  // and read_of() gives a target the server can parse. A plain path is unchanged.
  std::string path;
  std::string_view rest = query.request().path;
  for (size_t slash = rest.find('/'); slash != std::string_view::npos; slash = rest.find('/')) {
    path += http::percent_encode(rest.substr(0, slash)) + '/';
    rest.remove_prefix(slash + 1);
  }
  path += http::percent_encode(rest);
  std::string k = key(shop, type, path);
  char sep = '?';
  for (const auto& [name, value] : query.values()) {
    k += sep;
    k += http::percent_encode(name);  // '&' or '=' in a value cannot spell another query's key
    k += '=';
    k += http::percent_encode(value);
    sep = '&';
  }
  return k;
}

namespace {
thread_local cache::WarmReport* warming = nullptr;  // ReadCache::WarmingScope's report
}  // namespace

ReadCache::WarmingScope::WarmingScope(cache::WarmReport& report) : outer_(warming) {
  warming = &report;
}
ReadCache::WarmingScope::~WarmingScope() { warming = outer_; }

namespace {
thread_local int64_t reader = 0;  // ReadCache::ReaderScope's user; 0: none
}  // namespace

ReadCache::ReaderScope::ReaderScope(int64_t user) : outer_(reader) { reader = user; }
ReadCache::ReaderScope::~ReaderScope() { reader = outer_; }

http::Response ReadCache::serve(const Query& query, int64_t shop, std::string_view type,
                                const Filler& fill) {
  const http::Request& req = query.request();
  if (warming != nullptr && cache_ != nullptr) {
    cache::WarmReport r = cache_->warm({warm_item(key(shop, type, query), type, fill)}, 1);
    warming->loaded += r.loaded;
    warming->present += r.present;
    warming->failed += r.failed;
    return http::Response::empty(204);
  }
  if (cache_ == nullptr) {
    auto filled = fill();
    if (!filled.ok()) return http::from_status(filled.status());
    const uint64_t fingerprint = cache::fingerprint_of(filled->body);
    return with_cache_headers(http::Response::json(200, std::move(filled->body)), false,
                              fingerprint, req);
  }
  const cache::TypeId tid = type_id(type);
  const ShopStats::Lookup counted = shops_.begin(shop);
  const std::string k = key(shop, type, query);
  Source source = Source::kUnknown;
  const redis::Group::Pass local = pass();
  Result<cache::Lookup> lookup = Status(StatusCode::kUnavailable, "not read");
  if (local.open()) {
    lookup =
        cache_->get_or_fill(k, [&] { return load_tiers(shop, k, fill, source); }, {.type = tid});
  }
  if (!local.open() || (lookup.ok() && lookup->hit && !still(local))) {
    // The lease does not hold (or stopped holding while the hit was read): Redis and the
    // database answer, as if there were no local tier.
    util::blocking_point();
    source = Source::kUnknown;
    // Without the lease, not Redis either: a value there may predate a write whose
    // invalidation missed it, until this node's lease comes back (forget_all()).
    auto loaded = local.open() ? load_tiers(shop, k, fill, source) : load(fill);
    if (loaded.ok() && !local.open()) source = Source::kDatabase;
    if (loaded.ok()) {
      const uint64_t fingerprint = cache::fingerprint_of(loaded->value);
      lookup = cache::Lookup{std::make_shared<const std::string>(std::move(loaded->value)), false,
                             fingerprint};
    } else {
      lookup = loaded.status();
    }
  }
  using enum ShopStats::Outcome;
  shops_.end(counted, tid, !lookup.ok() ? kError : lookup->hit ? kHit : kMiss);
  if (!lookup.ok()) return http::from_status(lookup.status());
  if (reader != 0) {
    if (habits_ != nullptr) habits_->note(reader, k);
    if (rhythm_ != nullptr) rhythm_->note(shop, k, pos::now_ms());
  }
  http::Response r =
      with_cache_headers(http::Response::bytes(200, lookup->value, "application/json"), lookup->hit,
                         lookup->fingerprint, req);
  // Where the bytes came from (a caller that waited for another's load is not told).
  if (redis_ != nullptr && (lookup->hit || source != Source::kUnknown))
    r.set_header("X-Cache-Tier", lookup->hit                ? "local"
                                 : source == Source::kRedis ? "redis"
                                                            : "database");
  return r;
}

Result<cache::Loaded> ReadCache::load_tiers(int64_t shop, const std::string& key,
                                            const Filler& fill, Source& source) {
  if (redis_ == nullptr) return load(fill);
  redis::Lookup in_redis = redis_->get(shop, key);
  if (in_redis.found) {
    source = Source::kRedis;
    redis::Found& f = *in_redis.found;
    return cache::Loaded{std::move(f.body), std::move(f.tags), f.ttl, f.wall_deadline_ms};
  }
  auto filled = fill();
  if (!filled.ok()) return filled.status();
  source = Source::kDatabase;
  if (in_redis.ticket) {
    // The local entry's TTL, shortened at random as the local tier does.
    const cache::Options& o = cache_->options();
    const auto ttl = filled->ttl.value_or(cache_->default_ttl());
    thread_local std::minstd_rand rng{std::random_device{}()};
    const double cut = std::uniform_real_distribution<double>(0, std::max(0.0, o.ttl_jitter))(rng);
    redis::Fill f{.body = filled->body,
                  .tags = &filled->tags,
                  .ttl = std::chrono::milliseconds(
                      static_cast<int64_t>(static_cast<double>(ttl.count()) * (1 - cut))),
                  .wall_deadline_ms = filled->wall_deadline_ms};
    for (const std::string& t : filled->tags) {
      if (pos::CacheMap::shop_of(t) == shop) f.shop_tags.push_back(t);
    }
    redis_->put(*in_redis.ticket, key, f);
  }
  return cache::Loaded{std::move(filled->body), std::move(filled->tags), filled->ttl,
                       filled->wall_deadline_ms};
}

cache::WarmItem ReadCache::warm_item(std::string key, std::string_view type, Filler fill) {
  return cache::WarmItem{
      std::move(key), [fill = std::move(fill)] { return load(fill); }, {.type = type_id(type)}};
}

namespace {

// {"items":[...],"page":P,"per_page":N,"total":T}: what dump(to_json(page)) gives.
std::string page_body(const std::vector<std::string_view>& items, const PageRecipe& r,
                      int64_t total) {
  std::string body = "{\"items\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) body += ',';
    body += items[i];
  }
  body += "],\"page\":" + std::to_string(r.page) + ",\"per_page\":" + std::to_string(r.per_page) +
          ",\"total\":" + std::to_string(total) + "}";
  return body;
}

// "total,id,id,...", a page index's value.
int64_t parse_index(std::string_view v, std::vector<int64_t>& ids) {
  int64_t total = 0;
  for (size_t at = 0; at <= v.size();) {
    size_t comma = std::min(v.find(',', at), v.size());
    int64_t n = 0;
    std::from_chars(v.data() + at, v.data() + comma, n);
    if (at == 0)
      total = n;
    else
      ids.push_back(n);
    at = comma + 1;
  }
  return total;
}

}  // namespace

Result<Filled> ReadCache::whole_page(const PageRecipe& r) {
  auto listed = r.list();
  if (!listed.ok()) return listed.status();
  std::vector<std::string_view> bodies;
  std::vector<int64_t> ids;
  for (const auto& item : listed->second.items) {
    bodies.push_back(item.body);
    ids.push_back(item.id);
  }
  return Filled{page_body(bodies, r, listed->first), r.page_tags(ids), std::nullopt};
}

Result<Filled> ReadCache::page(const PageRecipe& r) {
  const redis::Group::Pass local = pass();
  if (cache_ == nullptr || !local.open()) return whole_page(r);
  std::optional<Loaded> loaded_here;  // by the index's load, if it ran here
  std::vector<int64_t> ids;
  auto total = page_index(r, loaded_here, ids);
  if (!total.ok()) return total.status();
  std::vector<std::string> items(ids.size());
  std::vector<int64_t> missing;
  std::optional<uint64_t> version;  // the page's, when one load read every item it shows
  const cache::TypeId type = type_id(r.type);
  if (loaded_here) {
    version = loaded_here->version;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (auto it = loaded_here->bodies.find(ids[i]); it != loaded_here->bodies.end())
        items[i] = std::move(it->second);
    }
  } else if (r.versioned) {
    missing = ids;
  } else {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (auto got = cache_->get(detail_key(r.shop, r.type, ids[i]), type))
        items[i] = **got;
      else
        missing.push_back(ids[i]);
    }
  }
  if (!missing.empty()) {
    cache::Ticket ticket = cache_->ticket();
    auto loaded = r.by_ids(missing);
    if (!loaded.ok()) return loaded.status();
    if (missing.size() == ids.size()) version = loaded->version;
    for (auto& x : loaded->items) {
      store_item(r, x, loaded->version, ticket);
      items[static_cast<size_t>(std::find(ids.begin(), ids.end(), x.id) - ids.begin())] =
          std::move(x.body);
    }
  }
  std::vector<std::string_view> shown_items;
  std::vector<int64_t> shown;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (items[i].empty()) continue;  // deleted while this page was read
    shown_items.push_back(items[i]);
    shown.push_back(ids[i]);
  }
  if (!still(local)) return whole_page(r);  // the lease stopped holding meanwhile
  Filled out{page_body(shown_items, r, *total), r.page_tags(shown), std::nullopt};
  if (version) out.version = cache::Version{*version};
  return out;
}

void ReadCache::store_item(const PageRecipe& r, const PageItem& x, std::optional<uint64_t> version,
                           const cache::Ticket& ticket) {
  cache::PutOptions options{.tags = r.item_tags(x.id), .type = type_id(r.type)};
  if (version) options.version = cache::Version{*version};
  cache_->put(detail_key(r.shop, r.type, x.id), x.body, options, &ticket);
}

Result<int64_t> ReadCache::page_index(const PageRecipe& r, std::optional<Loaded>& loaded_here,
                                      std::vector<int64_t>& ids) {
  // A page index's key has no request's path, so read_of() finds nothing to send again: a
  // page's refill rebuilds its index if need be.
  std::string index_key =
      key(r.shop, r.type,
          "index?page=" + std::to_string(r.page) + "&per_page=" + std::to_string(r.per_page));
  index_key += r.filters;
  auto index = cache_->get_or_fill(
      index_key,
      [&]() -> Result<cache::Loaded> {
        cache::Ticket ticket = cache_->ticket();  // before the read, for the item entries it stores
        auto listed = r.list();
        if (!listed.ok()) return listed.status();
        std::string value = std::to_string(listed->first);
        loaded_here.emplace().version = listed->second.version;
        for (auto& x : listed->second.items) {
          store_item(r, x, listed->second.version, ticket);
          value += "," + std::to_string(x.id);
          loaded_here->bodies[x.id] = std::move(x.body);
        }
        return cache::Loaded{std::move(value), r.index_tags, std::nullopt};
      },
      {.type = type_id(r.type)});
  if (!index.ok()) return index.status();
  return parse_index(*index->value, ids);
}

std::optional<cache::Ticket> ReadCache::ticket() {
  if (cache_ == nullptr) return std::nullopt;
  return cache_->ticket();
}

void ReadCache::store_detail(int64_t shop, std::string_view type, int64_t id, std::string body,
                             std::vector<std::string> tags, const cache::Ticket& ticket) {
  if (cache_ == nullptr || !pass().open()) return;
  cache_->put(detail_key(shop, type, id), std::move(body),
              {.tags = std::move(tags), .type = type_id(type)}, &ticket);
}

Result<pos::Principal> ReadCache::session(std::string_view token,
                                          const std::function<Result<pos::Principal>()>& load) {
  const redis::Group::Pass local = pass();
  if (cache_ == nullptr || !local.open()) return load();
  // The key holds a hash of the token, never the token.
  XXH128_hash_t h = XXH3_128bits(token.data(), token.size());
  char key[48];
  std::snprintf(key, sizeof key, "session|%016llx%016llx",
                static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  std::optional<pos::Principal> fresh;
  auto hit = cache_->get_or_fill(
      key,
      [&]() -> Result<cache::Loaded> {
        auto p = load();
        if (!p.ok()) return p.status();  // not cached: a bad token is looked up every time
        fresh = *p;
        auto ttl = std::chrono::milliseconds(
            std::clamp<int64_t>(p->expires_at - pos::now_ms(), 1, 600'000));
        return cache::Loaded{std::to_string(p->user_id) + "," + std::to_string(p->shop_id) + "," +
                                 pos::role_name(p->role) + "," + std::to_string(p->expires_at) +
                                 "," + p->username,
                             map_.session(p->shop_id, p->user_id), ttl};
      },
      {.type = type_id("sessions")});
  if (!hit.ok()) return hit.status();
  if (fresh) return *fresh;
  if (!still(local)) return load();  // the lease stopped holding meanwhile
  // "uid,sid,role,expires,username", as stored above: parsed without scanf (a hit's hot path).
  pos::Principal p;
  std::string_view rest = *hit->value;
  auto field = [&rest]() {
    size_t comma = rest.find(',');
    std::string_view f = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    return f;
  };
  auto number = [](std::string_view f, int64_t& out) {
    auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), out);
    return ec == std::errc() && end == f.data() + f.size() && !f.empty();
  };
  std::string_view uid = field(), sid = field(), role = field(), exp = field();
  if (!number(uid, p.user_id) || !number(sid, p.shop_id) || !number(exp, p.expires_at) ||
      (role != "owner" && role != "cashier")) {
    return Internal("corrupt cached session");
  }
  p.role = role == "owner" ? pos::Role::kOwner : pos::Role::kCashier;
  p.username = std::string(rest);
  if (p.expires_at <= pos::now_ms())
    return Status(StatusCode::kUnauthenticated, "invalid or expired token");
  return p;
}

Result<size_t> ReadCache::invalidate(const std::vector<std::string>& tags,
                                     cache::InvalidationCause cause,
                                     std::vector<cache::DroppedKey>* dropped,
                                     const cache::Rewriter* rewrite) {
  if (cache_ == nullptr || tags.empty()) return size_t{0};
  // One write's tries to reach Redis, from its commit: the tier's repair, then the log.
  std::optional<redis::Group::Tries> tries;
  if (group_ != nullptr) tries.emplace(*group_, std::chrono::steady_clock::now());
  auto n = drop(tags, cause, dropped, rewrite, tries ? &*tries : nullptr);
  const bool published =
      group_ == nullptr ||
      group_->publish_and_wait(tags, cause == cache::InvalidationCause::kClear, *tries);
  if (!n.ok() || !published) {
    return Status(StatusCode::kUnavailable,
                  "committed, but other nodes that reach Redis could not be told (this node "
                  "cannot): not acknowledged")
        .with_reason("not_acknowledged");
  }
  return n;
}

bool ReadCache::forget_all() {
  if (cache_ == nullptr) return true;
  cache_->clear();
  if (redis_ == nullptr || !shop_list_) return true;
  auto shops = shop_list_();
  if (!shops.ok()) {
    spdlog::warn("redis: cannot list the shops to forget ({}): not serving locally until then",
                 shops.status().message());
    return false;
  }
  // Unreached, the shops stay pending: the tier is not read until they are raised.
  redis_->raise_generations(*shops);
  return true;
}

void ReadCache::apply_remote(const std::vector<std::string>& tags, bool clear) {
  if (cache_ == nullptr || tags.empty()) return;
  // The log reader's: it must not outlast the lease, so it ends as without a witness.
  std::optional<redis::Group::Tries> tries;
  if (group_ != nullptr)
    tries.emplace(*group_, std::chrono::steady_clock::now(), /*ask_witness=*/false);
  (void)drop(tags, clear ? cache::InvalidationCause::kClear : cache::InvalidationCause::kWrite,
             nullptr, nullptr, tries ? &*tries : nullptr);
}

Result<size_t> ReadCache::drop(const std::vector<std::string>& tags, cache::InvalidationCause cause,
                               std::vector<cache::DroppedKey>* dropped,
                               const cache::Rewriter* rewrite, redis::Group::Tries* tries) {
  std::vector<std::string_view> views(tags.begin(), tags.end());
  // A write's Rewriter keeps what it can bring up to date; the second pass (after Redis) runs it
  // again: it keeps as they are the entries the first pass brought to the change's version, and
  // drops what a fill stored meanwhile (a value from Redis carries no version).
  auto local = [&] {
    if (rewrite != nullptr && cause == cache::InvalidationCause::kWrite) {
      return cache_->rewrite_tags(views, *rewrite, dropped);
    }
    return cache_->invalidate_tags(views, cause, dropped);
  };
  size_t n = local();
  if (redis_ == nullptr) return n;
  const bool told = drop_in_redis(tags, tries);
  n += local();
  if (!told) return Status(StatusCode::kUnavailable, "the Redis tier could not be told");
  return n;
}

bool ReadCache::drop_in_redis(const std::vector<std::string>& tags, redis::Group::Tries* tries) {
  if (redis_->invalidate(redis_groups(tags)) || tries == nullptr) return true;
  // Alone, a missed invalidation only stops this node reading Redis until the repair; other
  // nodes would go on reading what it should have dropped.
  return tries->until([this] { return redis_->repair(); }) != redis::Group::Reach::kRefused;
}

std::vector<redis::ShopTags> ReadCache::redis_groups(const std::vector<std::string>& tags) {
  std::vector<int64_t> all;
  bool listed = false;
  std::map<int64_t, std::vector<std::string>> by_shop;
  for (const std::string& t : tags) {
    if (!pos::CacheMap::shop_of(t) && t.starts_with("type:") && !listed) {
      // Only /api/cache/clear names a tag of every shop (no write changes every shop), so a
      // failure here leaves nothing stale in Redis: it only clears less.
      listed = true;
      if (shop_list_) {
        auto shops = shop_list_();
        if (shops.ok())
          all = std::move(*shops);
        else
          spdlog::warn("redis: cannot list the shops to clear: {}", shops.status().message());
      }
    }
    for (auto& [shop, tag] : pos::CacheMap::per_shop(t, all)) by_shop[shop].push_back(tag);
  }
  std::vector<redis::ShopTags> out;
  for (auto& [shop, list] : by_shop) out.push_back({shop, std::move(list)});
  return out;
}

}  // namespace tajir::api
