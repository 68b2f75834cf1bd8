// ApiOptions: how the API is set up (api/api.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "api/auto_tuner.h"
#include "api/rate_limit.h"
#include "cache/cache.h"
#include "pos/cache_history.h"
#include "pos/cache_map.h"
#include "redis/group.h"
#include "redis/tier.h"

namespace tajir::api {

struct ApiOptions {
  std::string admin_token;  // empty: no operator
  bool metrics_enabled = true;
  cache::Cache* cache = nullptr;  // null: every read goes to the database
  redis::Tier* redis = nullptr;   // the second tier behind `cache`; null: none
  redis::Group* group = nullptr;  // the other nodes on that Redis (needs `cache`); null: none
  pos::InvalidationMode invalidation = pos::InvalidationMode::kPrecise;
  size_t warm_parallelism = 4;
  bool warm_on_login = true;  // warm the shop's essentials in the background at login
  // With warm_on_login: warm also the user's own most read keys (ReadHabits), up to this many
  // (0: not), remembered for up to warm_users users.
  size_t warm_user_keys = 8;
  size_t warm_users = 4096;
  // Warming by the clock (api/clock_warmer.h): each shop's busy hour warmed this long before it
  // starts (0: not), from up to rhythm_keys keys learned per shop and hour of the week, for up
  // to rhythm_hours (shop, hour) pairs. rhythm_hour_ms shorter than an hour compresses the week
  // (tests, benchmarks); clock_tick is the time between passes.
  std::chrono::milliseconds warm_ahead{std::chrono::minutes(10)};
  size_t rhythm_keys = 16;
  size_t rhythm_hours = 16384;
  int64_t rhythm_hour_ms = 3'600'000;
  std::chrono::milliseconds clock_tick{std::chrono::minutes(1)};
  uint64_t busy_min_reads = 20;
  bool refill = true;  // load again, in the background, what a write dropped that was being read
  // Fault injection for tests: each write waits this long between its commit and its
  // invalidation, so a test can show that no answer about a write outruns its invalidation.
  std::chrono::milliseconds invalidation_delay{0};
  bool db_statements_header = false;  // X-DB-Statements: N on every authenticated response
  AuthLimitOptions auth_limits;       // failed logins and registrations (api/rate_limit.h)
  // Keep the cache's statistics history in the database, per hour and per day, this many of
  // each per shop (api/history_writer.h); off: only the in-memory history.
  bool stored_history = true;
  pos::CacheHistoryLimits history_limits;
  std::optional<AutoTuner::Options> auto_tune;  // --auto-tune (needs `cache`); nullopt: off
};

}  // namespace tajir::api
