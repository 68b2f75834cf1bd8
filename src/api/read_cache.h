// ReadCache: the API's cached GETs, on the cache engine, with the tags pos::CacheMap chooses.
// It is the only door from the API into the engine: every key is built here (a request's, a
// detail's by type and id, a page index's, a session's), and every fill, store and
// invalidation goes through it.
//
// A cached read stores the serialised response bytes, so a hit does no database access and no
// JSON work: the handler checks the caller's role, builds the key, and sends the stored bytes
// (the body shared, not copied) with `X-Cache: HIT`, an ETag, and 304 for a matching
// If-None-Match. The key always starts with the shop: another shop's bytes can never match.
// Its query part is what the handler read (api/query.h), not what the client sent: two
// requests that share a key read the same values.
//
// Writes call invalidate() with CacheMap's tags after their transaction committed and before
// they answer, and every fill takes a ticket before it reads the database (Cache::get_or_fill),
// so no client sees a read older than a write that was acknowledged before it.
//
// With a Redis tier (redis/tier.h), a local miss of serve() asks Redis before the database,
// and a database fill is stored in both; a hit in Redis is stored locally under the ticket the
// local miss took before asking. invalidate() drops the tags locally, then in Redis, then
// locally again: a local fill from Redis that read a value just before Redis dropped it is
// refused or removed by the second pass. Sessions, page indexes, the items pages are built
// from, and warming stay in the local tier.
//
// With several nodes (redis/group.h), the local tier is read only while this node's lease holds
// (a read that took its pass before and finds it still good after; else the read goes to Redis
// and the database as if there were no local tier), and a write's invalidate() answers only once
// every other live node has applied it.
//
// Thread safety: thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/query.h"
#include "api/read_habits.h"
#include "api/shop_rhythm.h"
#include "api/shop_stats.h"
#include "api/warmer.h"
#include "cache/cache.h"
#include "http/http.h"
#include "pos/cache_map.h"
#include "redis/group.h"
#include "redis/tier.h"

namespace tajir::api {

// A response body made by a loader, with the tags it depends on.
struct Filled {
  std::string body;
  std::vector<std::string> tags;
  std::optional<std::chrono::milliseconds> ttl;
  int64_t wall_deadline_ms = 0;           // unix ms: cache::PutOptions::wall_deadline_ms
  std::optional<cache::Version> version;  // the shop's change it reflects (api/maintained.h)
};
using Filler = std::function<Result<Filled>()>;

// A list page made from entries of two kinds (ARCHITECTURE.md): its index (its total and ids,
// which only membership and the filters' fields move, so a sale leaves it) and each item's
// JSON (the very entry its detail GET serves, dropped by what changes that item). A page whose
// entry went is rebuilt from its index and its items: those in the cache, and the others in
// one load; but the items of a recipe with `versioned` set are all read again in one load, so
// that the page reflects one change of the shop and a sale can keep it up to date
// (api/maintained.h).
struct PageItem {
  int64_t id = 0;
  std::string body;  // the item's JSON, as its detail GET answers it
};
// Items read in one snapshot, and the shop's change it was (api/maintained.h; nullopt: items
// that no sale keeps up to date).
struct PageItems {
  std::vector<PageItem> items;
  std::optional<uint64_t> version;
};
struct PageRecipe {
  int64_t shop = 0;
  std::string_view type;  // "products", "customers": the detail of id N is /api/<type>/N
  int64_t page = 1, per_page = 50;
  std::string filters;  // what else selects the page ("&q=tea&category=Food"), for its index key
  std::vector<std::string> index_tags;
  std::function<Result<std::pair<int64_t, PageItems>>()>
      list;  // total and items, from the database
  std::function<Result<PageItems>(const std::vector<int64_t>&)> by_ids;  // from the database
  std::function<std::vector<std::string>(int64_t)> item_tags;
  std::function<std::vector<std::string>(const std::vector<int64_t>&)>
      page_tags;           // of the ids shown
  bool versioned = false;  // list and by_ids give versions
};

class ReadCache {
 public:
  // `cache` null: caching off; every read loads (and still answers X-Cache: MISS and ETags).
  // `redis` (needs `cache`): the second tier; `shops` lists every shop, for the invalidations
  // that name a tag of every shop (a clear of a type everywhere); `group` (needs `cache`): the
  // other nodes, which every invalidation reaches before it returns.
  using ShopList = std::function<Result<std::vector<int64_t>>()>;
  ReadCache(cache::Cache* cache, pos::CacheMap map, redis::Tier* redis = nullptr,
            ShopList shops = {}, redis::Group* group = nullptr);

  const pos::CacheMap& map() const { return map_; }
  // The engine itself, for the management endpoints (statistics, history, maintenance,
  // warming); null with caching off. Reads and writes of entries go through the calls below.
  cache::Cache* engine() const { return cache_; }
  // The Redis tier, or null.
  redis::Tier* redis() const { return redis_; }
  // The nodes sharing Redis, or null.
  redis::Group* group() const { return group_; }
  // Each shop's hits and misses of the GETs serve() answers, and its history (shop_stats.h).
  const ShopStats& shops() const { return shops_; }
  ShopStats& shops() { return shops_; }

  // The key of a read: "SHOP|type|/path?a=1&b=2", the path and the query values the handler
  // read (api/query.h), sorted and percent-encoded.
  static std::string key(int64_t shop, std::string_view type, const Query& query);
  // The key of a GET of `path` with no query: what key() gives for it.
  static std::string key(int64_t shop, std::string_view type, std::string_view path);
  // The key of GET /api/<type>/<id>.
  static std::string detail_key(int64_t shop, std::string_view type, int64_t id);
  // The inverse for keys made from a request: the shop and the target ("/path?query") to send
  // again; nullopt for other keys (sessions, page indexes).
  struct Read {
    std::string shop;
    std::string_view target;
  };
  static std::optional<Read> read_of(std::string_view key);

  // Answers a GET, whose parameters `query` read, from the cache or `fill`, counting it for
  // the shop (shops()). Failures of `fill` become error responses. REQUIRES: query.status().ok().
  http::Response serve(const Query& query, int64_t shop, std::string_view type, const Filler& fill);

  // While one lives on a thread, serve() on that thread warms instead of reading: a missing
  // entry is filled through Cache::warm (counted as a warmup, not a miss, nor in the shop's
  // figures), what it did is added to `report`, and the answer is an empty 204 (a warm
  // restart sends the hot keys' GETs again this way: Api::warm_keys).
  class WarmingScope {
   public:
    explicit WarmingScope(cache::WarmReport& report);
    ~WarmingScope();
    WarmingScope(const WarmingScope&) = delete;
    WarmingScope& operator=(const WarmingScope&) = delete;

   private:
    cache::WarmReport* outer_;
  };

  // While one lives on a thread, what serve() answers on that thread is noted as a read of
  // `user` in the habits given to set_habits() (Access::guard sets it for a user's request).
  class ReaderScope {
   public:
    explicit ReaderScope(int64_t user);
    ~ReaderScope();
    ReaderScope(const ReaderScope&) = delete;
    ReaderScope& operator=(const ReaderScope&) = delete;

   private:
    int64_t outer_;
  };
  // Where serve() notes who read what, and when in their shop's week (none: nowhere). Call
  // before serving.
  void set_habits(ReadHabits* habits, ShopRhythm* rhythm) {
    habits_ = habits;
    rhythm_ = rhythm;
  }
  // Entries warmed, by cause (every caller of warming adds what it loaded).
  WarmCounts& warmed() { return warmed_; }
  const WarmCounts& warmed() const { return warmed_; }

  // A cache item for warming the read at `key`.
  cache::WarmItem warm_item(std::string key, std::string_view type, Filler fill);

  // The body of a list page, exactly what serialising the whole page gives, and its tags:
  // built from its index and its items' entries, loading from the database only what is
  // missing (see PageRecipe). With caching off, the whole page is loaded.
  Result<Filled> page(const PageRecipe& recipe);

  // Stores what GET /api/<type>/<id> would load (a new bill, read at once by the receipt), if
  // no invalidation of `tags` came after `ticket` was taken. A no-op with caching off.
  void store_detail(int64_t shop, std::string_view type, int64_t id, std::string body,
                    std::vector<std::string> tags, const cache::Ticket& ticket);
  // A ticket to pass to store_detail(), taken before the database is read; nullopt with
  // caching off.
  std::optional<cache::Ticket> ticket();

  // The principal of a bearer token: `load`'s (pos::Pos::authenticate), cached under a hash of
  // the token (never the token) until the session's end; a failed load is not cached. A hit
  // reads no database.
  Result<pos::Principal> session(std::string_view token,
                                 const std::function<Result<pos::Principal>()>& load);

  // Drops what a write changed (or, with kClear, what a clear names). Returns how many went,
  // or Unavailable (reason not_acknowledged) when other nodes could not be told and may still
  // serve what went (redis::Group::publish_and_wait): the write must not be acknowledged.
  // With `dropped`, appends what went and whether it had been read (Cache::invalidate_tags).
  // With `rewrite` (a write's), what it keeps stays, brought up to date (Cache::rewrite_tags).
  Result<size_t> invalidate(const std::vector<std::string>& tags,
                            cache::InvalidationCause cause = cache::InvalidationCause::kWrite,
                            std::vector<cache::DroppedKey>* dropped = nullptr,
                            const cache::Rewriter* rewrite = nullptr);

  // Another node's write, from the log (redis::Group): drops `tags` as invalidate() does here
  // (the local tier, Redis, the local tier again), without publishing it. The Redis pass is not
  // redundant: a fill on this node may have built a value from local entries the write had not
  // yet dropped here, and stored it in Redis after the writer raised the versions.
  void apply_remote(const std::vector<std::string>& tags, bool clear);
  // When this node's lease comes back after it was lost (redis::Group): empties the local tier
  // and raises every shop's generation in Redis, so that no value stored while some node's
  // invalidation could not reach Redis is read again by anyone. False when the shops cannot be
  // listed (the database is away): the group does not serve locally until a later call works.
  bool forget_all();

  cache::TypeId type_id(std::string_view type) const;

 private:
  // The page's index (its total; its ids into `ids`), from the cache or the database. Items the
  // database load read go into `loaded_here`, with that load's version, and are stored as
  // their own entries; `loaded_here` stays nullopt when the index came from the cache.
  struct Loaded {
    std::unordered_map<int64_t, std::string> bodies;
    std::optional<uint64_t> version;
  };
  Result<int64_t> page_index(const PageRecipe& r, std::optional<Loaded>& loaded_here,
                             std::vector<int64_t>& ids);
  void store_item(const PageRecipe& r, const PageItem& x, std::optional<uint64_t> version,
                  const cache::Ticket& ticket);
  // Where serve()'s loader found the value.
  enum class Source : uint8_t { kUnknown, kRedis, kDatabase };
  // serve()'s loader: Redis (if any), then `fill`, stored in Redis under its ticket.
  Result<cache::Loaded> load_tiers(int64_t shop, const std::string& key, const Filler& fill,
                                   Source& source);
  // Whether the local tier may be read now (with a group: while the lease holds), and whether
  // what was read of it after `pass` still counts.
  redis::Group::Pass pass() const {
    return group_ != nullptr ? group_->enter() : redis::Group::Pass{1};
  }
  bool still(redis::Group::Pass pass) const { return group_ == nullptr || group_->still(pass); }
  // page() without the local tier: the whole page from the database.
  Result<Filled> whole_page(const PageRecipe& recipe);
  // What invalidate() and apply_remote() drop: the local tier, Redis, the local tier again.
  // Unavailable when the Redis tier could not be told and others may still read it.
  Result<size_t> drop(const std::vector<std::string>& tags, cache::InvalidationCause cause,
                      std::vector<cache::DroppedKey>* dropped, const cache::Rewriter* rewrite,
                      redis::Group::Tries* tries);
  // Raises the versions of `tags` in Redis. With other nodes (`tries`), an invalidation that
  // missed is repaired (the shops' generations raised) before this returns, or until `tries`
  // ends: the other nodes read Redis too, and by then each has either stopped serving, or got
  // its lease back, and with it raised every generation, after the commit (forget_all()).
  // False: refused (others may still read what missed).
  bool drop_in_redis(const std::vector<std::string>& tags, redis::Group::Tries* tries);
  // The Redis tier's part of invalidating `tags`, by shop.
  std::vector<redis::ShopTags> redis_groups(const std::vector<std::string>& tags);

  cache::Cache* cache_;
  redis::Tier* redis_;
  ShopList shop_list_;
  redis::Group* group_;
  pos::CacheMap map_;
  std::vector<std::pair<std::string, cache::TypeId>> types_;
  ShopStats shops_;
  ReadHabits* habits_ = nullptr;
  ShopRhythm* rhythm_ = nullptr;
  WarmCounts warmed_;
};

}  // namespace tajir::api
