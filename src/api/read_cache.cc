#include "api/read_cache.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>

#include "http/errors.h"

namespace tajir::api {
namespace {

std::string etag_of(std::string_view body) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"",
                static_cast<unsigned long long>(XXH3_64bits(body.data(), body.size())));
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
    std::string_view item = h.substr(pos, comma == std::string_view::npos ? h.size() - pos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

http::Response with_cache_headers(http::Response r, bool hit, const http::Request& req) {
  std::string etag = etag_of(r.body_view());
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

ReadCache::ReadCache(cache::Cache* cache, pos::CacheMap map) : cache_(cache), map_(map) {
  for (std::string_view t : pos::kCacheTypes) {
    types_.emplace_back(std::string(t), cache_ != nullptr ? cache_->register_type(t) : 0);
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
  std::string k = key(shop, type, query.request().path);
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

http::Response ReadCache::serve(const Query& query, int64_t shop, std::string_view type,
                                const Filler& fill) {
  const http::Request& req = query.request();
  if (cache_ == nullptr) {
    auto filled = fill();
    if (!filled.ok()) return http::from_status(filled.status());
    return with_cache_headers(http::Response::json(200, std::move(filled->body)), false, req);
  }
  auto lookup = cache_->get_or_fill(key(shop, type, query), [&]() -> Result<cache::Loaded> {
    auto filled = fill();
    if (!filled.ok()) return filled.status();
    return cache::Loaded{std::move(filled->body), std::move(filled->tags), filled->ttl};
  }, {.type = type_id(type)});
  if (!lookup.ok()) return http::from_status(lookup.status());
  return with_cache_headers(http::Response::bytes(200, lookup->value, "application/json"),
                            lookup->hit, req);
}

cache::WarmItem ReadCache::warm_item(std::string key, std::string_view type, Filler fill) {
  return cache::WarmItem{std::move(key),
                         [fill = std::move(fill)]() -> Result<cache::Loaded> {
                           auto filled = fill();
                           if (!filled.ok()) return filled.status();
                           return cache::Loaded{std::move(filled->body), std::move(filled->tags),
                                                filled->ttl};
                         },
                         {.type = type_id(type)}};
}

size_t ReadCache::invalidate(const std::vector<std::string>& tags, cache::InvalidationCause cause,
                             std::vector<cache::DroppedKey>* dropped) {
  if (cache_ == nullptr || tags.empty()) return 0;
  std::vector<std::string_view> views(tags.begin(), tags.end());
  return cache_->invalidate_tags(views, cause, dropped);
}

}  // namespace tajir::api
