#include "app/config.h"

#include <toml++/toml.h>

#include <charconv>
#include <cstdlib>
#include <vector>

#include "redis/client.h"
#include "util/args.h"

namespace tajir::app {
namespace {

struct Setting {
  const char* name;  // flag --name, env TAJIR_NAME, TOML key name
  const char* help;
  std::function<Status(Config&, const std::string&)> set;
};

template <typename T>
Status parse_int(const std::string& s, T& out, T min, T max) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < min || v > max) {
    return InvalidArgument("must be an integer from " + std::to_string(min) + " to " +
                           std::to_string(max));
  }
  out = v;
  return OkStatus();
}

Status parse_bool(const std::string& s, bool& out) {
  if (s == "true" || s == "1" || s == "yes") return out = true, OkStatus();
  if (s == "false" || s == "0" || s == "no") return out = false, OkStatus();
  return InvalidArgument("must be true or false");
}

// "10.0.0.1, ::1" -> {"10.0.0.1", "::1"}; "" -> {}.
Status parse_addresses(const std::string& s, std::vector<std::string>& out) {
  std::vector<std::string> list;
  for (size_t start = 0; start < s.size();) {
    size_t comma = std::min(s.find(',', start), s.size());
    std::string item = s.substr(start, comma - start);
    start = comma + 1;
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) continue;
    auto a = api::canonical_address(item);
    if (!a) return InvalidArgument("'" + item + "' is not an IP address");
    list.push_back(std::move(*a));
  }
  out = std::move(list);
  return OkStatus();
}

Status parse_size_into(const std::string& v, uint64_t& out) {
  auto n = parse_size(v);
  if (!n.ok()) return n.status();
  out = *n;
  return OkStatus();
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> kSettings = {
      {"address", "address to listen on",
       [](Config& c, const std::string& v) {
         c.address = v;
         return OkStatus();
       }},
      {"port", "port to listen on (0: any free port)",
       [](Config& c, const std::string& v) { return parse_int<uint16_t>(v, c.port, 0, 65535); }},
      {"db", "sqlite:PATH or postgresql://USER@HOST:PORT/DB",
       [](Config& c, const std::string& v) {
         c.db = v;
         return OkStatus();
       }},
      {"redis",
       "redis://HOST:PORT, or redis-cluster://HOST:PORT,HOST:PORT,... (a Redis Cluster's seed "
       "nodes): a second cache tier behind the local one, shared by every node on it; "
       "redis://USER:PASSWORD@HOST:PORT (or :PASSWORD@, the default user) authenticates "
       "(give it in TAJIR_REDIS or the config file, not on the command line)",
       [](Config& c, const std::string& v) {
         if (!v.empty()) {
           if (auto ep = redis::parse_url(v); !ep.ok()) return ep.status();
         }
         c.redis = v;
         return OkStatus();
       }},
      {"sqlite-cache", "SQLite's page cache per connection (two readers per core and one writer)",
       [](Config& c, const std::string& v) { return parse_size_into(v, c.sqlite_cache); }},
      {"sqlite-mmap", "how much of the SQLite file its connections read through mmap (0: none)",
       [](Config& c, const std::string& v) { return parse_size_into(v, c.sqlite_mmap); }},
      {"redis-timeout-ms", "the most a connect or a command to Redis may take",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.redis_timeout_ms, 1, 60'000);
       }},
      {"lease-ms",
       "with --redis: how long a node may serve its local tier without Redis; the longest a "
       "write waits for a node that stopped answering",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.lease_ms, 100, 60'000);
       }},
      {"node-id", "with --redis: this node's name among the nodes on that Redis (default: made up)",
       [](Config& c, const std::string& v) {
         c.node_id = v;
         return OkStatus();
       }},
      {"cache-memory", "cache memory limit, e.g. 256MiB",
       [](Config& c, const std::string& v) { return parse_size_into(v, c.cache_memory); }},
      {"cache-ttl", "seconds a cached read lives at most, writes aside (0: until a write drops it)",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.cache_ttl_s, 0, 86'400 * 365);
       }},
      {"auto-tune",
       "apply optimize's memory-limit and TTL advice by itself, within the bounds below, and back "
       "a change out when the hit rate gets worse (true|false)",
       [](Config& c, const std::string& v) { return parse_bool(v, c.auto_tune); }},
      {"auto-tune-memory-min",
       "with --auto-tune: the lowest memory limit (default: half --cache-memory)",
       [](Config& c, const std::string& v) { return parse_size_into(v, c.auto_tune_memory_min); }},
      {"auto-tune-memory-max",
       "with --auto-tune: the highest memory limit (default: twice --cache-memory)",
       [](Config& c, const std::string& v) { return parse_size_into(v, c.auto_tune_memory_max); }},
      {"auto-tune-ttl-min",
       "with --auto-tune: the shortest TTL, seconds (default: half --cache-ttl)",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.auto_tune_ttl_min_s, 1, 86'400 * 365);
       }},
      {"auto-tune-ttl-max",
       "with --auto-tune: the longest TTL, seconds (default: four times --cache-ttl)",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.auto_tune_ttl_max_s, 1, 86'400 * 365);
       }},
      {"auto-tune-period-s", "with --auto-tune: seconds between changes, each judged over the next",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.auto_tune_period_s, 1, 86'400);
       }},
      {"cache", "cache reads (true|false)",
       [](Config& c, const std::string& v) { return parse_bool(v, c.cache); }},
      {"invalidation", "precise|coarse",
       [](Config& c, const std::string& v) {
         if (v != "precise" && v != "coarse") return InvalidArgument("must be precise or coarse");
         c.invalidation = v;
         return OkStatus();
       }},
      {"warm", "warm the cache at start-up and at login (true|false)",
       [](Config& c, const std::string& v) { return parse_bool(v, c.warm); }},
      {"warm-user-keys",
       "with --warm: at a login, warm also this many of that user's own most read keys (0: only "
       "the shop's essentials)",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.warm_user_keys, 0, 1'000);
       }},
      {"warm-ahead-minutes",
       "with --warm: warm each shop's busy hours (learned from its reads) this many minutes before "
       "they start, on the shop's clock (0: not)",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.warm_ahead_minutes, 0, 59);
       }},
      {"warm-ahead-keys",
       "with --warm-ahead-minutes: the keys learned, and warmed, per shop and hour of its week",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.warm_ahead_keys, 1, 1'000);
       }},
      {"rhythm-hour-ms",
       "testing and benchmarks only: an hour of the shops' week lasts this many ms (it must divide "
       "3600000)",
       [](Config& c, const std::string& v) {
         Status st = parse_int<int64_t>(v, c.rhythm_hour_ms, 100, 3'600'000);
         if (st.ok() && 3'600'000 % c.rhythm_hour_ms != 0)
           return InvalidArgument("must divide 3600000 (an hour in ms)");
         return st;
       }},
      {"refill",
       "load again in the background what a write dropped that was being read (true|false)",
       [](Config& c, const std::string& v) { return parse_bool(v, c.refill); }},
      {"hot-keys",
       "file of the hot keys written at a clean stop and warmed at start (default: the SQLite "
       "file + .hotkeys; none for PostgreSQL; off: no warm restart)",
       [](Config& c, const std::string& v) {
         c.hot_keys = v;
         return OkStatus();
       }},
      {"hot-keys-max", "most hot keys written and warmed",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.hot_keys_max, 0, 1'000'000);
       }},
      {"hot-keys-background", "warm the hot keys after saying listening, not before (true|false)",
       [](Config& c, const std::string& v) { return parse_bool(v, c.hot_keys_background); }},
      {"stats-history",
       "keep the cache's statistics history in the database, per hour and per day (true|false)",
       [](Config& c, const std::string& v) { return parse_bool(v, c.stats_history); }},
      {"stats-history-hours", "hourly rows of the stored history kept per shop",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.stats_history_hours, 1, 24 * 366);
       }},
      {"stats-history-days", "daily rows of the stored history kept per shop",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.stats_history_days, 1, 3660);
       }},
      {"redis-store-delay-ms",
       "testing only: each fill waits this long between its database load and its store in Redis",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.redis_store_delay_ms, 0, 60'000);
       }},
      {"invalidation-delay-ms",
       "testing only: each write waits this long between its commit and its invalidation",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.invalidation_delay_ms, 0, 60'000);
       }},
      {"db-statements-header",
       "send X-DB-Statements: N (SQL statements run) on API responses, for load generators "
       "(true|false)",
       [](Config& c, const std::string& v) { return parse_bool(v, c.db_statements_header); }},
      {"admin-token", "the operator's bearer token (empty: no operator)",
       [](Config& c, const std::string& v) {
         if (!v.empty() && v.size() < 16) return InvalidArgument("must be at least 16 characters");
         c.admin_token = v;
         return OkStatus();
       }},
      {"threads", "io threads, each an event loop (0: one per core)",
       [](Config& c, const std::string& v) { return parse_int<int>(v, c.threads, 0, 256); }},
      {"workers", "threads for requests that wait on the database (0: its connections, +1)",
       [](Config& c, const std::string& v) { return parse_int<int>(v, c.workers, 0, 1024); }},
      {"worker-queue", "requests waiting for a worker; past it 503 with Retry-After",
       [](Config& c, const std::string& v) {
         return parse_int<int>(v, c.worker_queue, 1, 1 << 20);
       }},
      {"worker-nice",
       "the workers' nice value, 0-19: on a busy core the event loops (hits) run first",
       [](Config& c, const std::string& v) { return parse_int<int>(v, c.worker_nice, 0, 19); }},
      {"password-hashes", "password hashes at once (0: one per two cores); past it, 503 busy",
       [](Config& c, const std::string& v) {
         return parse_int<int>(v, c.password_hashes, 0, 1024);
       }},
      {"access-log", "one line per request: - (the log), off, or a file to append to",
       [](Config& c, const std::string& v) {
         if (v.empty()) return InvalidArgument("must be -, off or a file path");
         c.access_log = v;
         return OkStatus();
       }},
      {"body-limit", "largest request body, e.g. 1MiB",
       [](Config& c, const std::string& v) { return parse_size_into(v, c.body_limit); }},
      {"login-failures-per-user",
       "failed logins per username and client address in 15 minutes; then 429 (0: no limit)",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.auth_limits.login_failures_per_user, 0, 1'000'000'000);
       }},
      {"login-failures-per-address",
       "failed logins per client address in 15 minutes; then 429 (0: no limit)",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.auth_limits.login_failures_per_address, 0, 1'000'000'000);
       }},
      {"registrations-per-address", "registrations per client address in an hour (0: no limit)",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.auth_limits.registrations_per_address, 0, 1'000'000'000);
       }},
      {"trusted-proxies",
       "comma-separated addresses of reverse proxies whose X-Forwarded-For names the client",
       [](Config& c, const std::string& v) {
         return parse_addresses(v, c.auth_limits.trusted_proxies);
       }},
      {"metrics", "serve /metrics without auth (true|false)",
       [](Config& c, const std::string& v) { return parse_bool(v, c.metrics); }},
      {"log-level", "trace|debug|info|warn|error|off",
       [](Config& c, const std::string& v) {
         for (const char* l : {"trace", "debug", "info", "warn", "error", "off"}) {
           if (v == l) return c.log_level = v, OkStatus();
         }
         return InvalidArgument("must be one of trace, debug, info, warn, error, off");
       }},
      {"shops", "seed: shops to create",
       [](Config& c, const std::string& v) { return parse_int<int64_t>(v, c.shops, 1, 10'000); }},
      {"products", "seed: products per shop",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.products, 0, 10'000'000);
       }},
      {"customers", "seed: customers per shop",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.customers, 0, 10'000'000);
       }},
      {"bills", "seed: bills in all",
       [](Config& c, const std::string& v) {
         return parse_int<int64_t>(v, c.bills, 0, 100'000'000);
       }},
      {"seed", "seed: random seed",
       [](Config& c, const std::string& v) {
         return parse_int<uint64_t>(v, c.seed, 0, UINT64_MAX);
       }},
  };
  return kSettings;
}

std::string env_name(std::string_view name) {
  std::string out = "TAJIR_";
  for (char ch : name)
    out += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

Status apply(Config& c, const Setting& s, const std::string& value, const std::string& origin) {
  Status st = s.set(c, value);
  if (st.ok()) return st;
  return InvalidArgument(origin + ": " + s.name + " " + st.message(), s.name);
}

const Setting* find(std::string_view name) {
  for (const auto& s : settings()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

Status apply_file(Config& c, const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);  // Debian builds toml++ with exceptions
  } catch (const toml::parse_error& e) {
    return InvalidArgument("config file " + path + ": " + std::string(e.description()), "config");
  }
  for (const auto& [key, node] : table) {
    const Setting* s = find(key.str());
    if (s == nullptr)
      return InvalidArgument(
          "config file " + path + ": unknown setting '" + std::string(key.str()) + "'", "config");
    std::string value;
    if (auto v = node.value<std::string>())
      value = *v;
    else if (auto i = node.value<int64_t>())
      value = std::to_string(*i);
    else if (auto b = node.value<bool>())
      value = *b ? "true" : "false";
    else if (const toml::array* list = node.as_array();
             list != nullptr && (list->empty() || list->is_homogeneous(toml::node_type::string)))
      for (const auto& item : *list) value += (value.empty() ? "" : ",") + **item.as_string();
    else
      return InvalidArgument("config file " + path + ": " + s->name +
                                 " must be a string, integer, boolean or list of strings",
                             s->name);
    if (Status st = apply(c, *s, value, "config file " + path); !st.ok()) return st;
  }
  return OkStatus();
}

}  // namespace

Result<uint64_t> parse_size(std::string_view text) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc())
    return InvalidArgument("'" + std::string(text) + "' is not a size such as 256MiB");
  std::string_view unit(p, text.data() + text.size() - p);
  struct Unit {
    const char* name;
    uint64_t factor;
  };
  for (Unit u : {Unit{"", 1}, Unit{"B", 1}, Unit{"KiB", 1ull << 10}, Unit{"MiB", 1ull << 20},
                 Unit{"GiB", 1ull << 30}, Unit{"KB", 1000}, Unit{"MB", 1'000'000},
                 Unit{"GB", 1'000'000'000}}) {
    if (unit == u.name) {
      if (n > UINT64_MAX / u.factor) break;
      return n * u.factor;
    }
  }
  return InvalidArgument("'" + std::string(text) + "' is not a size such as 256MiB");
}

Result<Config> load_config(int argc, char** argv,
                           const std::function<const char*(const char*)>& getenv) {
  Config c;
  // The file first: find --config among the flags, else TAJIR_CONFIG.
  std::string file;
  if (const char* e = getenv("TAJIR_CONFIG")) file = e;
  {
    ArgReader args(argc, argv);
    while (args.next()) {
      if (args.flag() == "--config") {
        auto v = args.value();
        if (!v.ok()) return v.status();
        file = *v;
      }
    }
  }
  if (!file.empty()) {
    if (Status st = apply_file(c, file); !st.ok()) return st;
  }
  for (const auto& s : settings()) {
    std::string var = env_name(s.name);
    if (const char* e = getenv(var.c_str())) {
      if (Status st = apply(c, s, e, "environment " + var); !st.ok()) return st;
    }
  }
  ArgReader args(argc, argv);
  while (args.next()) {
    std::string_view flag = args.flag();
    if (flag == "--config") {
      (void)args.value();
      continue;
    }
    const Setting* s = flag.starts_with("--") ? find(flag.substr(2)) : nullptr;
    if (s == nullptr) return InvalidArgument("unknown argument '" + std::string(flag) + "'");
    auto v = args.value();
    if (!v.ok()) return v.status();
    if (Status st = apply(c, *s, *v, "flag --" + std::string(s->name)); !st.ok()) return st;
  }
  return c;
}

std::string config_usage() {
  std::string out =
      "settings (flag, or TAJIR_NAME in the environment, or `name = value` in --config FILE):\n";
  for (const auto& s : settings()) {
    std::string flag = "  --" + std::string(s.name);
    out += flag + std::string(flag.size() < 18 ? 18 - flag.size() : 1, ' ') + s.help + "\n";
  }
  return out;
}

}  // namespace tajir::app
