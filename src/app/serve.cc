#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "api/api.h"
#include "app/commands.h"
#include "app/hot_keys.h"
#include "cache/cache.h"
#include "db/database.h"
#include "http/router.h"
#include "http/server.h"
#include "pos/pos.h"
#include "pos/seed.h"
#include "redis/tier.h"

namespace tajir::app {
namespace {

int fail(const std::string& what, const Status& st) {
  std::fprintf(stderr, "tajir: %s: %s\n", what.c_str(), st.message().c_str());
  return 1;
}

Result<std::unique_ptr<db::Database>> open_and_migrate(const Config& c) {
  auto db =
      db::open(c.db, {.sqlite_cache_bytes = c.sqlite_cache, .sqlite_mmap_bytes = c.sqlite_mmap});
  if (!db.ok()) return db.status();
  if (Status st = db::migrate(**db); !st.ok()) return st;
  return db;
}

// --auto-tune's bounds: the ones given, else around the settings it starts from.
std::optional<api::AutoTuner::Options> auto_tune_options(const Config& c) {
  if (!c.auto_tune) return std::nullopt;
  const int64_t ttl = std::max<int64_t>(c.cache_ttl_s, 1);
  api::AutoTuner::Options o{
      .min_memory = c.auto_tune_memory_min != 0 ? c.auto_tune_memory_min : c.cache_memory / 2,
      .max_memory = c.auto_tune_memory_max != 0 ? c.auto_tune_memory_max : c.cache_memory * 2,
      .min_ttl = std::chrono::seconds(c.auto_tune_ttl_min_s != 0 ? c.auto_tune_ttl_min_s : ttl / 2),
      .max_ttl = std::chrono::seconds(c.auto_tune_ttl_max_s != 0 ? c.auto_tune_ttl_max_s : ttl * 4),
      .period = std::chrono::seconds(c.auto_tune_period_s)};
  o.max_memory = std::max(o.max_memory, o.min_memory);
  o.max_ttl = std::max(o.max_ttl, o.min_ttl);
  return o;
}

// The hot-key file of this configuration; empty: no warm restart.
std::string hot_keys_path(const Config& c) {
  if (!c.cache || c.hot_keys == "off") return "";
  return c.hot_keys.empty() ? default_hot_keys_path(c.db) : c.hot_keys;
}

void warm_hot_keys(api::Api& api, const std::string& path, const std::vector<std::string>& keys) {
  cache::WarmReport r = api.warm_keys(keys, api::WarmCause::kRestart);
  std::printf("warmed %zu of %zu hot keys from %s in %lld ms (%zu loaded, %zu failed)\n",
              r.loaded + r.present, keys.size(), path.c_str(),
              static_cast<long long>(r.took.count()), r.loaded, r.failed);
  std::fflush(stdout);
}

}  // namespace

int serve(const Config& c) {
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  auto db = open_and_migrate(c);
  if (!db.ok()) return fail("database " + c.db, db.status());
  pos::Pos pos(**db, {.max_concurrent_hashes = c.password_hashes});
  std::unique_ptr<cache::Cache> cache;
  if (c.cache)
    cache = std::make_unique<cache::Cache>(cache::Options{
        .memory_limit_bytes = c.cache_memory, .default_ttl = std::chrono::seconds(c.cache_ttl_s)});
  std::unique_ptr<redis::Tier> second_tier;
  std::unique_ptr<redis::Group> group;          // the other nodes on that Redis
  std::atomic<api::ReadCache*> reads{nullptr};  // the group's way in, once the API exists
  if (!c.redis.empty()) {
    if (!cache)
      return fail("redis", InvalidArgument("--redis needs the local cache (--cache true)"));
    auto client = redis::parse_url(c.redis);
    if (!client.ok()) return fail("redis", client.status());
    const std::chrono::milliseconds timeout(c.redis_timeout_ms);
    client->pool_size = std::max<size_t>(4, 2 * std::thread::hardware_concurrency());
    client->connect_timeout = timeout;
    client->command_timeout = timeout;
    // A write whose Redis invalidation missed retries its repair through this client until a
    // lease after its commit: it must not sit out a long backoff while Redis is back.
    *client = redis::prompt(std::move(*client), std::chrono::milliseconds(c.lease_ms));
    second_tier = std::make_unique<redis::Tier>(
        redis::TierOptions{.client = std::move(*client),
                           .store_delay = std::chrono::milliseconds(c.redis_store_delay_ms)});
    cache::Cache* local = cache.get();
    redis::GroupOptions nodes{
        .client = second_tier->options().client,
        .node = c.node_id,
        .lease = std::chrono::milliseconds(c.lease_ms),
        .invalidate =
            [local, &reads](const std::vector<std::string>& tags, bool clear) {
              if (api::ReadCache* r = reads.load(std::memory_order_acquire)) {
                r->apply_remote(tags, clear);
                return;
              }
              // Before the API exists nothing fills Redis from this node's local tier.
              std::vector<std::string_view> views(tags.begin(), tags.end());
              local->invalidate_tags(views, clear ? cache::InvalidationCause::kClear
                                                  : cache::InvalidationCause::kWrite);
            },
        .clear_all =
            [local, &reads] {
              if (api::ReadCache* r = reads.load(std::memory_order_acquire)) return r->forget_all();
              local->clear();
              return true;
            },
        // The second lease, in the database every node shares: what lets a write that cannot
        // reach Redis tell an outage for everyone from its own partition (docs/CACHE.md).
        .witness =
            redis::Witness{
                .beat = [&pos](const std::string& node) { return pos.beat_node(node).ok(); },
                .resign = [&pos](const std::string& node) { return pos.resign_node(node).ok(); },
                .beats = [&pos]() -> std::optional<std::vector<redis::Beat>> {
                  auto rows = pos.node_beats();
                  if (!rows.ok()) return std::nullopt;
                  std::vector<redis::Beat> out;
                  for (auto& r : *rows) out.push_back({std::move(r.node), r.beats, r.resigned});
                  return out;
                }}};
    group = std::make_unique<redis::Group>(std::move(nodes));
  }
  http::Router router;  // before the Api: its background refill routes requests until it stops
  api::Api api(
      pos, {.admin_token = c.admin_token,
            .metrics_enabled = c.metrics,
            .cache = cache.get(),
            .redis = second_tier.get(),
            .group = group.get(),
            .invalidation = c.invalidation == "coarse" ? pos::InvalidationMode::kCoarse
                                                       : pos::InvalidationMode::kPrecise,
            .warm_on_login = c.warm,
            .warm_user_keys = static_cast<size_t>(c.warm_user_keys),
            // The lead and the tick on the shop's clock, compressed with its hours.
            .warm_ahead = std::chrono::milliseconds(
                c.warm ? c.warm_ahead_minutes * 60'000 * c.rhythm_hour_ms / 3'600'000 : 0),
            .rhythm_keys = static_cast<size_t>(c.warm_ahead_keys),
            .rhythm_hour_ms = c.rhythm_hour_ms,
            .clock_tick =
                std::chrono::milliseconds(std::clamp<int64_t>(c.rhythm_hour_ms / 30, 10, 60'000)),
            .refill = c.refill,
            .invalidation_delay = std::chrono::milliseconds(c.invalidation_delay_ms),
            .db_statements_header = c.db_statements_header,
            .auth_limits = c.auth_limits,
            .stored_history = c.stats_history,
            .history_limits = {.hours = c.stats_history_hours, .days = c.stats_history_days},
            .auto_tune = auto_tune_options(c)});
  api.register_routes(router);
  reads.store(&api.reads(), std::memory_order_release);
  // The group's thread calls into the API: stopped before the API goes.
  struct StopGroup {
    redis::Group* group;
    ~StopGroup() {
      if (group != nullptr) group->stop();
    }
  } stop_group{group.get()};
  if (cache && c.warm) {
    auto shops = pos.shop_ids();
    if (!shops.ok()) return fail("warming", shops.status());
    api::WarmSummary w = api.warm(*shops, pos::warmable_types(), api::WarmCause::kStartup);
    std::printf("warmed %zu entries for %zu shops in %lld ms\n", w.total, shops->size(),
                static_cast<long long>(w.took.count()));
  }
  const std::string hot_path = hot_keys_path(c);
  std::vector<std::string> hot;
  if (!hot_path.empty()) {
    auto loaded = load_hot_keys(hot_path, static_cast<size_t>(c.hot_keys_max));
    if (!loaded.ok()) return fail("hot keys", loaded.status());
    hot = std::move(*loaded);
    if (!hot.empty() && !c.hot_keys_background) warm_hot_keys(api, hot_path, hot);
  }
  std::shared_ptr<spdlog::logger> access_log;
  if (c.access_log != "-" && c.access_log != "off") {
    try {
      access_log = spdlog::basic_logger_mt("access", c.access_log);
    } catch (const spdlog::spdlog_ex& e) {
      return fail("access log " + c.access_log, Status(StatusCode::kUnavailable, e.what()));
    }
  }
  // Workers wait on the database: by default as many as it has connections (2 per core, as
  // db::Options says) and SQLite's one writer.
  const size_t workers = c.workers > 0 ? static_cast<size_t>(c.workers)
                                       : 2 * std::max(1u, std::thread::hardware_concurrency()) + 1;
  http::Server server({.address = c.address,
                       .port = c.port,
                       .io_threads = c.threads,
                       .body_limit = static_cast<size_t>(c.body_limit),
                       .workers = workers,
                       .worker_queue = static_cast<size_t>(c.worker_queue),
                       .worker_nice = c.worker_nice,
                       .access_log = access_log,
                       .access_log_enabled = c.access_log != "off"},
                      router);
  if (Status st = server.start(); !st.ok()) return fail("listen on " + c.address, st);
  server.handle_signals();
  std::printf("tajir listening on http://%s:%u (database %s)\n", c.address.c_str(), server.port(),
              (*db)->describe().c_str());
  if (group) {
    std::printf("node %s on redis %s: lease %lld ms, %s\n", group->stats().node.c_str(),
                second_tier->options().client.endpoint.url().c_str(),
                static_cast<long long>(c.lease_ms),
                group->stats().serving ? "serving its local tier" : "no lease yet");
  }
  std::fflush(stdout);
  {
    std::jthread background;  // joined once the server stopped, before the keys are saved
    if (!hot.empty() && c.hot_keys_background)
      background = std::jthread([&] { warm_hot_keys(api, hot_path, hot); });
    server.run();
  }
  if (!hot_path.empty()) {
    // A clean stop: what was being read, for the next start.
    if (Status st = save_hot_keys(hot_path, api.hot_keys(static_cast<size_t>(c.hot_keys_max)));
        !st.ok())
      spdlog::warn("hot keys not saved: {}", st.message());
  }
  std::printf("tajir stopped\n");
  return 0;
}

int routes() {
  for (const auto& [method, pattern] : api::Api::routes()) {
    std::printf("%s %s\n", std::string(http::to_string(method)).c_str(), pattern.c_str());
  }
  return 0;
}

int seed(const Config& c) {
  auto db = open_and_migrate(c);
  if (!db.ok()) return fail("database " + c.db, db.status());
  pos::Pos pos(**db);
  int last_percent = -1;
  auto progress = [&](int64_t done, int64_t total, const char* what) {
    int percent = total == 0 ? 100 : static_cast<int>(100 * done / total);
    if (percent == last_percent) return;
    last_percent = percent;
    std::fprintf(stderr, "\rseeding [%-40s] %3d%% %-10s",
                 std::string(percent * 40 / 100, '#').c_str(), percent, what);
  };
  auto logins = pos::seed(pos, {c.shops, c.products, c.customers, c.bills, c.seed}, progress);
  std::fprintf(stderr, "\n");
  if (!logins.ok()) return fail("seed", logins.status());
  std::printf("seeded %s: %lld shops, %lld products and %lld customers each, %lld bills\n",
              (*db)->describe().c_str(), static_cast<long long>(c.shops),
              static_cast<long long>(c.products), static_cast<long long>(c.customers),
              static_cast<long long>(c.bills));
  std::printf("demo logins (password %s):\n", pos::kDemoPassword);
  for (const auto& l : *logins) {
    std::printf("  %-10s %-8s %s\n", l.username.c_str(), l.role.c_str(), l.shop.c_str());
  }
  return 0;
}

}  // namespace tajir::app
