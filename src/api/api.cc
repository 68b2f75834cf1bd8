#include "api/api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <thread>

namespace tajir::api {
namespace {

// Every resource's table of routes.
std::array<std::span<const Route>, 8> all_routes() {
  return {auth_routes(),     shop_routes(), product_routes(),   customer_routes(),
          employee_routes(), bill_routes(), dashboard_routes(), cache_routes()};
}

}  // namespace

Api::Api(pos::Pos& pos, ApiOptions options)
    : options_(std::move(options)),
      reads_(
          options_.cache, pos::CacheMap(options_.invalidation), options_.redis,
          [&pos] { return pos.shop_ids(); }, options_.group),
      access_(pos, reads_, options_.admin_token, options_.db_statements_header),
      writes_(reads_, access_.internal_token(), options_.refill, options_.invalidation_delay),
      limits_(options_.auth_limits),
      context_{pos, reads_, writes_, access_, options_, nullptr, limits_} {
  if (options_.cache != nullptr && options_.warm_on_login) {
    login_warmer_ = std::make_unique<BackgroundWarmer<int64_t>>(
        [this](int64_t shop) { warm({shop}, pos::warmable_types(), WarmCause::kLogin); },
        std::chrono::minutes(1));
    context_.login_warmer = login_warmer_.get();
    if (options_.warm_user_keys > 0) {
      habits_ = std::make_unique<ReadHabits>(options_.warm_user_keys, options_.warm_users);
      user_warmer_ = std::make_unique<BackgroundWarmer<int64_t>>(
          [this](int64_t user) { warm_habits(user); }, std::chrono::milliseconds(0));
      context_.user_warmer = user_warmer_.get();
    }
  }
  if (options_.cache != nullptr && options_.warm_ahead.count() > 0 && options_.rhythm_keys > 0) {
    rhythm_ = std::make_unique<ShopRhythm>(options_.rhythm_keys, options_.rhythm_hours,
                                           options_.rhythm_hour_ms);
    clock_ = std::make_unique<ClockWarmer>(
        *rhythm_,
        ClockWarmer::Options{.lead = options_.warm_ahead,
                             .tick = options_.clock_tick,
                             .min_reads = options_.busy_min_reads},
        [&pos](int64_t shop) {
          auto s = pos.shop(pos::Principal{0, shop, pos::Role::kOperator, "clock", 0});
          return s.ok() ? s->timezone : std::string();
        },
        [this](const std::vector<std::string>& keys, WarmCause cause) {
          return warm_keys(keys, cause);
        });
  }
  reads_.set_habits(habits_.get(), rhythm_.get());
  if (options_.cache != nullptr && options_.auto_tune) {
    tuner_ = std::make_unique<AutoTuner>(*options_.cache, *options_.auto_tune);
    context_.tuner = tuner_.get();
  }
  if (options_.cache != nullptr && options_.stored_history)
    history_ = std::make_unique<HistoryWriter>(pos, reads_, options_.history_limits);
}

Api::~Api() {
  // The background threads use the router and the cache: stop them first.
  login_warmer_.reset();
  user_warmer_.reset();
  clock_.reset();
  writes_.stop();
  history_.reset();  // writes the interval in progress
}

WarmSummary Api::warm(const std::vector<int64_t>& shops, const std::vector<std::string>& types,
                      WarmCause cause) {
  return api::warm(context_, shops, types, cause);
}

std::vector<std::string> Api::hot_keys(size_t max) const {
  std::vector<std::string> keys;
  if (reads_.engine() == nullptr) return keys;
  auto read = reads_.engine()->read_keys(
      max, [](std::string_view k) { return ReadCache::read_of(k).has_value(); });
  keys.reserve(read.size());
  for (auto& k : read) keys.push_back(std::move(k.key));
  return keys;
}

cache::WarmReport Api::warm_keys(const std::vector<std::string>& keys, WarmCause cause) {
  const auto start = std::chrono::steady_clock::now();
  cache::WarmReport total;
  if (reads_.engine() == nullptr) return total;
  std::atomic<size_t> next{0};
  std::mutex total_mu;
  auto work = [&] {
    cache::WarmReport mine;
    ReadCache::WarmingScope scope(mine);
    for (size_t i = next++; i < keys.size(); i = next++) {
      const size_t before = mine.loaded + mine.present + mine.failed;
      if (!writes_.replay(keys[i]) || mine.loaded + mine.present + mine.failed == before)
        ++mine.failed;  // not a read, or answered before reaching the cache (404, 403)
    }
    std::lock_guard lock(total_mu);
    total.loaded += mine.loaded;
    total.present += mine.present;
    total.failed += mine.failed;
  };
  const size_t parallelism =
      std::clamp<size_t>(options_.warm_parallelism, 1, std::max<size_t>(keys.size(), 1));
  {
    std::vector<std::jthread> helpers;
    for (size_t i = 1; i < parallelism; ++i) helpers.emplace_back(work);
    work();
  }
  total.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  reads_.warmed().add(cause, total.loaded);
  return total;
}

void Api::warm_habits(int64_t user) {
  const std::vector<std::string> keys = habits_->take(user);
  if (keys.empty()) return;
  const cache::WarmReport r = warm_keys(keys, WarmCause::kUser);
  spdlog::debug("warmed user {}'s reads at login: {} loaded, {} present, {} failed, {} ms", user,
                r.loaded, r.present, r.failed, r.took.count());
}

void Api::register_routes(http::Router& router) {
  for (auto table : all_routes()) {
    for (const Route& r : table) {
      router.add(r.method, r.path,
                 access_.guard(r.allow, [this, handler = r.handler](http::Request& req,
                                                                    const pos::Principal& p) {
                   return handler(context_, req, p);
                 }));
    }
  }
  writes_.set_router(&router);
}

std::vector<std::pair<http::Method, std::string>> Api::routes() {
  http::Router router;
  for (auto table : all_routes()) {
    for (const Route& r : table)
      router.add(r.method, r.path, [](http::Request&) { return http::Response::empty(500); });
  }
  return router.routes();
}

}  // namespace tajir::api
