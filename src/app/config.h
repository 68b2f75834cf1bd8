// Configuration of `tajir serve` and `tajir seed`: flags, TAJIR_* environment variables and a
// TOML file, from one table of settings.
//
// Precedence, lowest first: built-in defaults, the config file (--config FILE or TAJIR_CONFIG),
// the environment (TAJIR_PORT, TAJIR_DB, ...), flags (--port, --db, ...). A setting's flag is
// `--name`, its variable `TAJIR_NAME` (dashes as underscores, upper case), its TOML key `name`.
// Bad values are errors naming the setting and where it came from; they stop the start-up.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "api/rate_limit.h"
#include "util/status.h"

namespace tajir::app {

struct Config {
  // serve
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  std::string db = "sqlite:tajir.db";
  uint64_t sqlite_cache = 2ull << 20;  // per connection (db::Options::sqlite_cache_bytes)
  uint64_t sqlite_mmap = 1ull << 30;   // db::Options::sqlite_mmap_bytes
  std::string redis;                   // redis://HOST:PORT; empty: no second tier
  int64_t redis_timeout_ms = 250;      // connect and command timeout
  int64_t redis_store_delay_ms = 0;    // fault injection for tests: a fill's wait before its store
  int64_t lease_ms = 2000;             // a node's lease on its local tier (redis::GroupOptions)
  std::string node_id;                 // this node's name among those on the Redis; empty: made up
  uint64_t cache_memory = 256ull << 20;
  int64_t cache_ttl_s = 600;  // what /api/cache/optimize's TTL advice sets
  // --auto-tune (api/auto_tuner.h): the bounds it keeps to (0: half and twice --cache-memory;
  // half and four times --cache-ttl) and the period it judges by.
  bool auto_tune = false;
  uint64_t auto_tune_memory_min = 0, auto_tune_memory_max = 0;
  int64_t auto_tune_ttl_min_s = 0, auto_tune_ttl_max_s = 0;
  int64_t auto_tune_period_s = 600;
  bool cache = true;                     // false: every read goes to the database
  std::string invalidation = "precise";  // or "coarse": per-type clearing, to measure against
  bool warm = true;                      // warm every shop's essentials before serving
  int64_t warm_user_keys = 8;            // and at login, that many of the user's own reads
  // And by the clock: each shop's busy hours this many minutes ahead (0: not); testing and
  // benchmarks: an hour of the shop's week lasts this many ms of real time (the week
  // compressed; it must divide an hour).
  int64_t warm_ahead_minutes = 10;
  int64_t warm_ahead_keys = 16;  // the keys learned, and warmed, per shop and hour of its week
  int64_t rhythm_hour_ms = 3'600'000;
  bool refill = true;  // load again in the background what a write dropped that was being read
  // Warm restart (app/hot_keys.h): the file of hot keys ("": beside a SQLite database, none
  // for PostgreSQL; "off": none), how many at most, and whether they are warmed after the
  // server says it is listening rather than before.
  std::string hot_keys;
  int64_t hot_keys_max = 5000;
  bool hot_keys_background = false;
  // The cache's statistics history kept in the database: whether, and how many hourly and
  // daily rows per shop.
  bool stats_history = true;
  int64_t stats_history_hours = 24 * 7 * 5, stats_history_days = 400;
  int64_t invalidation_delay_ms =
      0;  // fault injection for tests: a write waits this long before it invalidates
  bool db_statements_header = false;  // X-DB-Statements on responses, for load generators
  std::string admin_token;
  int threads = 0;               // 0: one io thread per core
  int workers = 0;               // 0: the database's connections, plus one
  int worker_queue = 256;        // requests waiting for a worker; past it, 503
  int worker_nice = 0;           // the workers' nice value: the event loops come first
  int password_hashes = 0;       // argon2id at once (0: one per two cores); past it, 503
  std::string access_log = "-";  // "-": the server's log; "off"; or a file
  uint64_t body_limit = 1ull << 20;
  bool metrics = true;
  // login-failures-per-user, login-failures-per-address, registrations-per-address,
  // trusted-proxies
  api::AuthLimitOptions auth_limits;
  std::string log_level = "info";
  // seed
  int64_t shops = 3, products = 2000, customers = 5000, bills = 100000;
  uint64_t seed = 42;
};

// Reads the command line after the subcommand word (argv[0] is the subcommand).
// `getenv` is injectable for tests.
Result<Config> load_config(int argc, char** argv,
                           const std::function<const char*(const char*)>& getenv = ::getenv);

// "256MiB", "1GiB", "512MB", "4096" (bytes). kInvalidArgument otherwise.
Result<uint64_t> parse_size(std::string_view text);

// The usage text listing every setting.
std::string config_usage();

}  // namespace tajir::app
