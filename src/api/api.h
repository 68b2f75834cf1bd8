// Api: the JSON API (docs/API.md, docs/openapi.yaml) as routes on an http::Router over a
// pos::Pos, with the cache in front of every frequent read.
//
// The pieces, each in its own file of src/api/:
//   access.*          who calls (bearer session or operator token) and what a route allows
//   bodies.*, input.* reading and checking request bodies and query parameters
//   read_cache.*      the one door to the cache engine: keys, cached GETs, pages, sessions
//   loaders.*         the cached reads shared by GETs and warming; warm()
//   invalidator.*     what a write does after it commits: invalidate, then refill
//   rate_limit.*      failed logins and registrations per client address (429)
//   routes_*.cc       one table of routes per resource (routes.h says how to read them)
//   cache_report.*    what the cache endpoints and /metrics report
//
//   Api api(pos, {.cache = &cache});
//   api.register_routes(router);
//
// Thread safety: the routes may run on any number of threads at once.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/access.h"
#include "api/clock_warmer.h"
#include "api/history_writer.h"
#include "api/invalidator.h"
#include "api/loaders.h"
#include "api/options.h"
#include "api/read_cache.h"
#include "api/routes.h"
#include "api/warmer.h"
#include "http/router.h"
#include "pos/pos.h"

namespace tajir::api {

class Api {
 public:
  Api(pos::Pos& pos, ApiOptions options);
  ~Api();
  // Adds every route to the router. The router must outlive the Api (the refill routes
  // requests until the Api stops it).
  void register_routes(http::Router& router);
  // Every (method, pattern) the API serves, without a database (for `tajir routes`).
  static std::vector<std::pair<http::Method, std::string>> routes();

  // Warms the warmable types for these shops (loaders.h), counted for `cause`.
  WarmSummary warm(const std::vector<int64_t>& shops, const std::vector<std::string>& types,
                   WarmCause cause);

  // A warm restart. hot_keys(): up to `max` keys of cached GETs that were read, longest cached
  // first (Cache::read_keys), to write down at a clean stop; empty without a cache.
  // warm_keys(): sends each again through the router as its shop's operator (the refill's
  // path, Invalidator::replay), options.warm_parallelism at a time, filling what is missing
  // as warmups (ReadCache::WarmingScope). A key whose GET is no longer served (a shop gone, a
  // key of another version) counts as failed. REQUIRES: register_routes() was called.
  std::vector<std::string> hot_keys(size_t max) const;
  // What it loads is counted for `cause`.
  cache::WarmReport warm_keys(const std::vector<std::string>& keys, WarmCause cause);

  // The cached reads, for another node's invalidations (ReadCache::apply_remote).
  ReadCache& reads() { return reads_; }

 private:
  ApiOptions options_;
  ReadCache reads_;
  Access access_;
  Invalidator writes_;
  AuthLimits limits_;
  // At a user's login: warms what they read most (habits_), through warm_keys().
  void warm_habits(int64_t user);

  std::unique_ptr<ReadHabits> habits_;  // null without a cache, warm_on_login or warm_user_keys
  std::unique_ptr<BackgroundWarmer<int64_t>>
      login_warmer_;                                        // null without a cache or warm_on_login
  std::unique_ptr<BackgroundWarmer<int64_t>> user_warmer_;  // with habits_
  std::unique_ptr<ShopRhythm> rhythm_;                      // null without a cache or warm_ahead
  std::unique_ptr<ClockWarmer> clock_;                      // with rhythm_
  std::unique_ptr<AutoTuner> tuner_;                        // with a cache and auto_tune
  Context context_;
  std::unique_ptr<HistoryWriter> history_;  // null without a cache or stored_history
};

}  // namespace tajir::api
