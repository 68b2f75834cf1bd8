// ReadCache: the API's cached GETs, on the cache engine, with the tags pos::CacheMap chooses.
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
// Thread safety: thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/query.h"
#include "cache/cache.h"
#include "http/http.h"
#include "pos/cache_map.h"

namespace tajir::api {

// A response body made by a loader, with the tags it depends on.
struct Filled {
  std::string body;
  std::vector<std::string> tags;
  std::optional<std::chrono::milliseconds> ttl;
};
using Filler = std::function<Result<Filled>()>;

class ReadCache {
 public:
  // `cache` null: caching off; every read loads (and still answers X-Cache: MISS and ETags).
  ReadCache(cache::Cache* cache, pos::CacheMap map);

  const pos::CacheMap& map() const { return map_; }
  cache::Cache* engine() { return cache_; }

  // The key of a read: "SHOP|type|/path?a=1&b=2", the path and the query values the handler
  // read (api/query.h), sorted and percent-encoded.
  static std::string key(int64_t shop, std::string_view type, const Query& query);
  static std::string key(int64_t shop, std::string_view type, std::string_view path);
  // The inverse for keys made from a request: the shop and the target ("/path?query") to send
  // again; nullopt for other keys (sessions, page indexes).
  struct Read {
    std::string shop;
    std::string_view target;
  };
  static std::optional<Read> read_of(std::string_view key);

  // Answers a GET, whose parameters `query` read, from the cache or `fill`. Failures of `fill`
  // become error responses. REQUIRES: query.status().ok().
  http::Response serve(const Query& query, int64_t shop, std::string_view type,
                       const Filler& fill);

  // A cache item for warming the read at `key`.
  cache::WarmItem warm_item(std::string key, std::string_view type, Filler fill);

  // Drops what a write changed (or, with kClear, what a clear names). Returns how many went.
  // With `dropped`, appends what went and whether it had been read (Cache::invalidate_tags).
  size_t invalidate(const std::vector<std::string>& tags,
                    cache::InvalidationCause cause = cache::InvalidationCause::kWrite,
                    std::vector<cache::DroppedKey>* dropped = nullptr);

  cache::TypeId type_id(std::string_view type) const;

 private:
  cache::Cache* cache_;
  pos::CacheMap map_;
  std::vector<std::pair<std::string, cache::TypeId>> types_;
};

}  // namespace tajir::api
