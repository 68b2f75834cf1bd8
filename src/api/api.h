// Api: the JSON API of API.md, as routes on an http::Router over a pos::Pos.
//
// One table in api.cc lists every route with the roles allowed on it; handlers parse and check
// input (api/input.h), call Pos, and serialise (api/serialize.h). Authentication: a bearer
// token of a user, or the operator token given at start-up, who names the shop to act on with
// `?shop_id=` or an `X-Shop-Id` header.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>
#include <string>

#include "api/read_cache.h"
#include "api/warmer.h"
#include "cache/cache.h"
#include "http/router.h"
#include "pos/cache_map.h"
#include "pos/pos.h"

namespace tajir::api {

struct ApiOptions {
  std::string admin_token;  // empty: no operator
  bool metrics_enabled = true;
  cache::Cache* cache = nullptr;  // null: every read goes to the database
  pos::InvalidationMode invalidation = pos::InvalidationMode::kPrecise;
  size_t warm_parallelism = 4;
  bool warm_on_login = true;   // warm the shop's essentials in the background at login
  bool refill = true;          // load again, in the background, what a write dropped that was being read
  bool db_statements_header = false;  // X-DB-Statements: N on every authenticated response
};

struct RefillStats {
  uint64_t refilled = 0;
  uint64_t dropped = 0;
};

// What warm() did, per type.
struct WarmSummary {
  std::vector<std::pair<std::string, size_t>> warmed;  // type -> entries loaded or present
  size_t total = 0;
  std::chrono::milliseconds took{0};
};

class Api {
 public:
  Api(pos::Pos& pos, ApiOptions options);
  ~Api();
  // Adds every route to the router.
  void register_routes(http::Router& router);
  // Every (method, pattern) the API serves, without a database (for `tajir routes`).
  static std::vector<std::pair<http::Method, std::string>> routes();

  // Fills the cache with the reads every till makes first: each shop's first product page,
  // dashboard and first customer page (the types asked for), `parallelism` at a time.
  WarmSummary warm(const std::vector<int64_t>& shops, const std::vector<std::string>& types);

  // What the background refill did: entries loaded again, and requests dropped when full.
  RefillStats refill_stats() const;

 private:
  explicit Api(ApiOptions options)
      : pos_(nullptr), options_(std::move(options)), reads_(nullptr, pos::CacheMap()) {}
  void register_cache_routes(http::Router& router);
  Result<pos::Principal> principal(const http::Request& req);

  // The loaders of the cached reads, shared by the GET handlers and warm().
  Filler product_page(const pos::Principal& p, pos::ProductFilter f, pos::PageRequest page);
  Filler customer_page(const pos::Principal& p, std::optional<std::string> q, pos::PageRequest page);
  Filler dashboard(const pos::Principal& p);

  // After a write: drops what it changed, and queues the dropped entries that had been read
  // for loading again in the background (when refill is on).
  void invalidate(const std::vector<std::string>& tags);
  void replay(const std::string& key);

  static constexpr size_t kMaxPendingRefills = 4096;
  static constexpr int kRefillCredit = 3;

  pos::Pos* pos_;  // never null but in routes(), whose handlers are never called
  ApiOptions options_;
  ReadCache reads_;
  const http::Router* router_ = nullptr;
  std::string internal_token_;  // the operator's, for replay(); random, never leaves the process
  std::unique_ptr<BackgroundWarmer<int64_t>> login_warmer_;  // null without a cache
  std::mutex credits_mu_;
  std::unordered_map<std::string, int> credits_;  // GUARDED_BY(credits_mu_): refills left unread
  std::unique_ptr<BackgroundWarmer<std::string>> refiller_;  // null without a cache or refill
};

}  // namespace tajir::api
