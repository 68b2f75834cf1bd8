// The routes of the API: one file per resource (routes_<resource>.cc), each a table a reader
// can scan, one row per route: method, path, who may call it (api/access.h), handler.
//
//   constexpr Route kRoutes[] = {
//       {Method::kGet, "/api/products",      kEveryone, list},
//       {Method::kGet, "/api/products/{id}", kEveryone, with_id<get>},
//   };
//
// A handler gets the Context (what every handler works with), the request and the caller; it
// parses input (api/bodies.h, api/input.h), calls pos::Pos, answers reads through ReadCache
// and, after a write commits, hands CacheMap's tags to the Invalidator before it answers.
#pragma once

#include <span>

#include "api/access.h"
#include "api/invalidator.h"
#include "api/options.h"
#include "api/query.h"
#include "api/rate_limit.h"
#include "api/read_cache.h"
#include "http/errors.h"
#include "http/http.h"
#include "pos/pos.h"

namespace tajir::api {

// The names every route file uses.
using http::Method;
using http::Request;
using http::Response;

struct Context {
  pos::Pos& pos;
  ReadCache& reads;
  Invalidator& writes;
  const Access& access;
  const ApiOptions& options;
  BackgroundWarmer<int64_t>* login_warmer;  // warms a shop's essentials at login; null when off
  AuthLimits& limits;                       // of logins and registrations
  // Warms what a user read most (ReadHabits) at their login; null when off.
  BackgroundWarmer<int64_t>* user_warmer = nullptr;
  const AutoTuner* tuner = nullptr;  // --auto-tune; null when off
};

using Handler = http::Response (*)(Context&, http::Request&, const pos::Principal&);
using IdHandler = http::Response (*)(Context&, http::Request&, const pos::Principal&, int64_t id);

struct Route {
  http::Method method;
  const char* path;
  unsigned allow;  // api/access.h's Allow
  Handler handler;
};

// The id of a route's "{id}", parsed (a 400 when it is not a positive id), then `F`.
Result<int64_t> path_id(const http::Request& req);
template <IdHandler F>
http::Response with_id(Context& c, http::Request& req, const pos::Principal& p) {
  auto id = path_id(req);
  if (!id.ok()) return http::from_status(id.status());
  return F(c, req, p, *id);
}

// ?page (default 1) and ?per_page (1..200, default 50), read through the list route's Query.
pos::PageRequest page_of(Query& q);

// Each resource's table.
std::span<const Route> auth_routes();
std::span<const Route> shop_routes();
std::span<const Route> product_routes();
std::span<const Route> customer_routes();
std::span<const Route> employee_routes();
std::span<const Route> bill_routes();
std::span<const Route> dashboard_routes();
std::span<const Route> cache_routes();

}  // namespace tajir::api
