// The loaders of the cached reads that more than one caller fills: the GET handlers, warming
// (at start-up, at login, /api/cache/warm and optimize) and the refill. Each returns a Filler:
// the response body and the tags pos::CacheMap gives it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/reply.h"
#include "api/routes.h"
#include "api/serialize.h"

namespace tajir::api {

// A one-object read: its JSON and its tags.
template <typename T>
Result<Filled> filled(const Result<T>& r, std::vector<std::string> tags) {
  if (!r.ok()) return r.status();
  return Filled{dump(to_json(*r)), std::move(tags), std::nullopt};
}

Filler product_page(Context& c, const pos::Principal& p, pos::ProductFilter f,
                    pos::PageRequest page);
Filler customer_page(Context& c, const pos::Principal& p, std::optional<std::string> q,
                     pos::PageRequest page);
Filler dashboard(Context& c, const pos::Principal& p);
// GET /api/products/{id}, with the shop's change it was read at (api/maintained.h).
Filler product(Context& c, const pos::Principal& p, int64_t id);
// GET /api/products's filters, read through its Query (the route's and a cached page's key's).
pos::ProductFilter product_filter(Query& q);
// GET /api/bills's filters, read through its Query (the route's and a cached page's key's).
pos::BillFilter bill_filter(Query& q);
Filler bill_page(Context& c, const pos::Principal& p, pos::BillFilter f, pos::PageRequest page);

// What warm() did, per type.
struct WarmSummary {
  std::vector<std::pair<std::string, size_t>> warmed;  // type -> entries loaded or present
  size_t total = 0;
  std::chrono::milliseconds took{0};
};

// Fills the cache with the reads every till makes first: each shop's first product page,
// dashboard and first customer page (the warmable types asked for), options.warm_parallelism
// at a time; what it loads is counted for `cause` (ReadCache::warmed()).
WarmSummary warm(Context& c, const std::vector<int64_t>& shops,
                 const std::vector<std::string>& types, WarmCause cause);

}  // namespace tajir::api
