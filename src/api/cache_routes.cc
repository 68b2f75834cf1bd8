// The cache's management endpoints (API.md "Cache management", "Operations"): warm, stats,
// clear, optimize, stats/history, /metrics in Prometheus' text format, and the page at /cache
// that plots them.
//
// The owner acts on its own shop; the operator on the shop it names ("shop_id" in the body) or,
// without one, on every shop. Statistics are the whole cache's (they are counted per value
// type, not per shop).
#include <cmath>
#include <cstdio>

#include "api/api.h"
#include "api/cache_page.h"
#include "api/input.h"
#include "api/query.h"
#include "api/reply.h"
#include "http/errors.h"

namespace tajir::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;


std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b) / (1ull << 30));
  else if (b >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(b) / (1ull << 20));
  else std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  return buf;
}

// 1203 -> "1,203".
std::string with_commas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

// 38 -> "38 ms", 4100 -> "4.1 s", 412000 -> "412 s", then hours and days.
std::string human_ms(double ms) {
  auto whole = [](double x) { return with_commas(static_cast<uint64_t>(std::llround(x))); };
  char buf[32];
  if (ms < 1000) std::snprintf(buf, sizeof buf, "%.0f ms", ms);
  else if (ms < 100'000) std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000);
  else if (ms < 7'200'000) return whole(ms / 1000) + " s";
  else if (ms < 172'800'000) std::snprintf(buf, sizeof buf, "%.1f h", ms / 3'600'000);
  else return whole(ms / 86'400'000) + " days";
  return buf;
}

// TTL advice for one type whose entries are filled with `ttl`, from what ended their lives: a
// write (an invalidation, at a recorded age) or the TTL (an expiration: the value was still true
// as far as the cache knows). No entry is invalidated older than its TTL, so the ages alone
// cannot show that values outlive it; the expirations can. Then: mostly invalidated, the TTL is
// not what ends entries, keep it; mostly expired, a value stays true for about M, estimated by
// an exponential fit over both (rate = invalidations / time cached), and the advice is a TTL of
// M (at most a day; twice the TTL if the fit puts M below it). nullopt below 20 entries seen to
// their end.
std::optional<json> ttl_advice(const std::string& type, const cache::TypeStats& t,
                               std::chrono::milliseconds ttl, double jitter) {
  const uint64_t invalidated = t.invalidated_age.count(), expired = t.expirations;
  const double ttl_ms = static_cast<double>(ttl.count());
  if (ttl.count() <= 0 || invalidated + expired < 20) return std::nullopt;
  const int64_t ttl_s = std::max<int64_t>(1, ttl.count() / 1000);
  const double p50 = t.invalidated_age.quantile_ms(0.5);
  json advice = {{"setting", "cache-ttl"}, {"type", type}, {"current_seconds", ttl_s},
                 {"median_age_at_invalidation_ms", std::llround(p50)},
                 {"invalidations", invalidated}, {"expirations", expired}};
  const std::string ttl_text = "TTL " + with_commas(static_cast<uint64_t>(ttl_s)) + " s";
  if (invalidated == 0) {
    advice["recommended_seconds"] = 2 * ttl_s;
    advice["because"] = "no write changed an entry within its TTL: the " + ttl_text +
                        " alone bounds their life (" + with_commas(expired) + " expirations, 0 invalidations)";
  } else if (invalidated >= expired) {
    advice["recommended_seconds"] = ttl_s;
    advice["because"] = "median age at invalidation " + human_ms(p50) + " over " + with_commas(invalidated) +
                        " invalidations, against " + with_commas(expired) + " expirations: writes, not the " +
                        ttl_text + ", end these entries; keep it";
  } else {
    const double cached_ms = static_cast<double>(t.invalidated_age.sum_ms) +
                             static_cast<double>(expired) * ttl_ms * (1 - std::clamp(jitter, 0.0, 1.0) / 2);
    const double true_ms = std::log(2.0) * cached_ms / static_cast<double>(invalidated);
    const int64_t m = std::llround(std::min(true_ms, 86'400'000.0) / 1000);
    advice["recommended_seconds"] = m > ttl_s ? m : 2 * ttl_s;
    advice["value_true_median_ms"] = std::llround(true_ms);
    advice["because"] = ttl_text + " expired " + with_commas(expired) + " entries still true, against " +
                        with_commas(invalidated) + " changed by a write (median age at invalidation " +
                        human_ms(p50) + "); a value stays true about " + human_ms(true_ms) +
                        " (median, exponential fit over both)";
  }
  return advice;
}

json stats_json(const cache::Cache* c, pos::InvalidationMode mode) {
  if (c == nullptr) {
    return {{"enabled", false}, {"hits", 0}, {"misses", 0}, {"hit_rate", 0.0}, {"keys", 0},
            {"memory_bytes", 0}, {"total_keys", 0}, {"memory_usage", "0 B"}, {"redis_status", "disabled"},
            {"tiers", {{"local", {{"enabled", false}}}, {"redis", {{"enabled", false}, {"connected", false}}}}}};
  }
  cache::Stats st = c->stats();
  json out;
  auto put_counters = [](json& j, const cache::TypeStats& t) {
    for (size_t i = 0; i < cache::kNumCounters; ++i) {
      j[cache::kCounterInfo[i].json_name] = t.get(static_cast<cache::Counter>(i));
    }
    j["hit_rate"] = t.hit_rate();
    j["keys"] = t.keys;
    j["memory_bytes"] = t.memory_bytes;
    j["invalidated_age_count"] = t.invalidated_age.count();
    j["invalidated_age_p50_ms"] = std::llround(t.invalidated_age.quantile_ms(0.5));
  };
  put_counters(out, st.total);
  out["enabled"] = true;
  out["peak_memory_bytes"] = st.peak_memory_bytes;
  out["memory_limit_bytes"] = st.memory_limit_bytes;
  out["compression_ratio"] = st.compression_ratio();
  out["compressed_values"] = st.compressed_values;
  out["ghost_hits"] = st.ghost_hits;
  out["tags"] = st.tags;
  out["policy"] = st.policy;
  out["shards"] = st.shards;
  out["invalidation"] = mode == pos::InvalidationMode::kPrecise ? "precise" : "coarse";
  json by_type = json::object();
  for (const auto& [name, t] : st.by_type) {
    if (name == "default") continue;
    json j;
    put_counters(j, t);
    by_type[name] = std::move(j);
  }
  out["by_type"] = std::move(by_type);
  out["tiers"] = {{"local", {{"enabled", true}, {"hits", st.total.hits}, {"misses", st.total.misses},
                             {"keys", st.total.keys}, {"memory_bytes", st.total.memory_bytes}}},
                  {"redis", {{"enabled", false}, {"connected", false}}}};
  // Fields of the original Python design's clients.
  out["total_keys"] = st.total.keys;
  out["memory_usage"] = human_bytes(st.total.memory_bytes);
  out["redis_status"] = "disabled";
  return out;
}

// "types": ["products", ...] | "all" (default), or the legacy "cache_type": "all" | "products".
Result<std::vector<std::string>> requested_types(const Input& in, const std::vector<std::string>& allowed) {
  const json* types = in.member("types");
  if (types == nullptr) types = in.member("cache_type");
  if (types == nullptr || (types->is_string() && types->get<std::string>() == "all")) return allowed;
  std::vector<std::string> out;
  auto take = [&](const json& v) -> Status {
    if (!v.is_string()) return InvalidArgument("types must be \"all\" or a list of type names", "types");
    const std::string& t = v.get_ref<const std::string&>();
    if (std::find(allowed.begin(), allowed.end(), t) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return InvalidArgument("unknown type '" + t + "' (known: " + list + ")", "types");
    }
    out.push_back(t);
    return OkStatus();
  };
  if (types->is_string()) {
    if (Status st = take(*types); !st.ok()) return st;
  } else if (types->is_array() && !types->empty()) {
    for (const auto& v : *types) {
      if (Status st = take(v); !st.ok()) return st;
    }
  } else {
    return InvalidArgument("types must be \"all\" or a non-empty list of type names", "types");
  }
  return out;
}

// The shops a management call acts on: the owner's own; the operator's named one, or all.
Result<std::vector<int64_t>> target_shops(pos::Pos& pos, const pos::Principal& p, const Input& in,
                                          const Request& req) {
  if (p.role != pos::Role::kOperator) return std::vector<int64_t>{p.shop_id};
  const json* shop = in.member("shop_id");
  if (shop != nullptr && !shop->is_null()) {
    auto id = integer_value(*shop, "shop_id", 1, INT64_MAX);
    if (!id.ok()) return id.status();
    auto exists = pos.shop_exists(*id);
    if (!exists.ok()) return exists.status();
    if (!*exists) return NotFound("shop not found");
    return std::vector<int64_t>{*id};
  }
  if (req.query("shop_id") || req.header("X-Shop-Id")) return std::vector<int64_t>{p.shop_id};
  return pos.shop_ids();
}

Result<Input> body_or_empty(const Request& req) {
  return Input::parse(req.body.empty() ? std::string_view("{}") : std::string_view(req.body));
}

}  // namespace

WarmSummary Api::warm(const std::vector<int64_t>& shops, const std::vector<std::string>& types) {
  WarmSummary out;
  cache::Cache* c = options_.cache;
  if (c == nullptr) return out;
  std::vector<cache::WarmItem> items;
  std::vector<std::string> item_types;
  for (int64_t shop : shops) {
    pos::Principal p{0, shop, pos::Role::kOperator, "warm", 0};
    for (const auto& t : types) {
      if (t == "products") {
        items.push_back(reads_.warm_item(ReadCache::key(shop, t, "/api/products"), t, product_page(p, {}, {})));
      } else if (t == "customers") {
        items.push_back(reads_.warm_item(ReadCache::key(shop, t, "/api/customers"), t, customer_page(p, {}, {})));
      } else if (t == "dashboard") {
        items.push_back(reads_.warm_item(ReadCache::key(shop, t, "/api/dashboard"), t, dashboard(p)));
      } else {
        continue;
      }
      item_types.push_back(t);
    }
  }
  const auto start = std::chrono::steady_clock::now();
  // Warm one type at a time so that the counts per type come out of the engine's report.
  for (const auto& t : types) {
    std::vector<cache::WarmItem> of_type;
    for (size_t i = 0; i < items.size(); ++i) {
      if (item_types[i] == t) of_type.push_back(items[i]);
    }
    cache::WarmReport r = c->warm(std::move(of_type), options_.warm_parallelism);
    out.warmed.emplace_back(t, r.loaded + r.present);
    out.total += r.loaded + r.present;
  }
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return out;
}

void Api::register_cache_routes(http::Router& router) {
  const std::vector<std::string> warmable = {"products", "dashboard", "customers"};
  const std::vector<std::string> clearable = {"products", "customers", "dashboard", "bills",
                                              "employees", "shop", "sessions"};
  auto managers = [this](auto handler) -> http::Handler {
    return [this, handler](Request& req) -> Response {
      auto p = principal(req);
      if (!p.ok()) return http::from_status(p.status());
      if (p->role == pos::Role::kCashier) {
        return http::from_status({StatusCode::kPermissionDenied, "your role may not do this"});
      }
      return handler(req, *p);
    };
  };
  // The operator may call without naming a shop here: resolve it only if named.
  auto operator_or_owner = [this, managers](auto handler) -> http::Handler {
    return [this, managers, handler](Request& req) -> Response {
      auto token = http::bearer_token(req.header("Authorization"));
      const std::string& admin = options_.admin_token;
      if (token && !admin.empty() && *token == admin && !req.query("shop_id") && !req.header("X-Shop-Id")) {
        return handler(req, pos::Principal{0, 0, pos::Role::kOperator, "operator", 0});
      }
      return managers(handler)(req);
    };
  };

  router.add(Method::kPost, "/api/cache/warm", operator_or_owner([this, warmable](Request& req, const pos::Principal& p) {
    auto in = body_or_empty(req);
    if (!in.ok()) return http::from_status(in.status());
    auto types = requested_types(*in, warmable);
    if (!types.ok()) return http::from_status(types.status());
    auto shops = target_shops(*pos_, p, *in, req);
    if (!shops.ok()) return http::from_status(shops.status());
    WarmSummary w = warm(*shops, *types);
    json warmed = json::object();
    for (const auto& [t, n] : w.warmed) warmed[t] = n;
    return reply(200, {{"warmed", warmed}, {"total", w.total}, {"ms", w.took.count()}, {"shops", shops->size()}});
  }));

  router.add(Method::kPost, "/api/cache/clear", operator_or_owner([this, clearable](Request& req, const pos::Principal& p) {
    auto in = body_or_empty(req);
    if (!in.ok()) return http::from_status(in.status());
    auto types = requested_types(*in, clearable);
    if (!types.ok()) return http::from_status(types.status());
    std::vector<std::string> tags;
    const json* shop = in->member("shop_id");
    bool everywhere = p.role == pos::Role::kOperator && p.shop_id == 0 && (shop == nullptr || shop->is_null());
    if (everywhere) {
      for (const auto& t : *types) tags.push_back(pos::CacheMap::type_tag(t));
    } else {
      auto shops = target_shops(*pos_, p, *in, req);
      if (!shops.ok()) return http::from_status(shops.status());
      for (int64_t s : *shops) {
        for (const auto& t : *types) tags.push_back(pos::CacheMap::type_tag(t, s));
      }
    }
    return reply(200, {{"cleared", reads_.invalidate(tags, cache::InvalidationCause::kClear)}});
  }));

  router.add(Method::kGet, "/api/cache/stats", operator_or_owner([this](Request&, const pos::Principal&) {
    json out = stats_json(options_.cache, options_.invalidation);
    RefillStats r = refill_stats();
    out["refill"] = {{"enabled", options_.cache != nullptr && options_.refill},
                     {"refilled", r.refilled}, {"dropped", r.dropped}};
    return reply(200, out);
  }));

  router.add(Method::kGet, "/api/cache/stats/history", operator_or_owner([this](Request& req, const pos::Principal&) {
    Query q(req);
    int64_t minutes = q.integer("minutes", 1, 7 * 24 * 60, 60);
    if (!q.status().ok()) return http::from_status(q.status());
    json points = json::array();
    if (cache::Cache* c = options_.cache) {
      auto per_point = std::max<int64_t>(1, c->options().history_interval.count() / 60'000);
      for (const auto& pt : c->history(static_cast<size_t>(minutes / per_point))) {
        points.push_back({{"at", pos::format_time(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      pt.at.time_since_epoch()).count())},
                          {"hits", pt.hits}, {"misses", pt.misses}, {"hit_rate", pt.hit_rate()},
                          {"keys", pt.keys}, {"memory_bytes", pt.memory_bytes}});
      }
    }
    return reply(200, {{"points", points}});
  }));

  router.add(Method::kPost, "/api/cache/optimize", operator_or_owner([this, warmable](Request& req, const pos::Principal& p) {
    cache::Cache* c = options_.cache;
    if (c == nullptr) return http::from_status({StatusCode::kFailedPrecondition, "the cache is off"});
    auto in = body_or_empty(req);
    if (!in.ok()) return http::from_status(in.status());
    auto shops = target_shops(*pos_, p, *in, req);
    if (!shops.ok()) return http::from_status(shops.status());
    json before = stats_json(c, options_.invalidation);
    cache::Stats st = c->stats();
    json actions = json::array(), recommendations = json::array();
    actions.push_back({{"action", "reclaim_expired"}, {"entries", c->run_maintenance()}});
    // Warm the warmable types that miss more than they hit.
    std::vector<std::string> cold;
    for (const auto& [name, t] : st.by_type) {
      if (std::find(warmable.begin(), warmable.end(), name) != warmable.end() && t.misses > t.hits) {
        cold.push_back(name);
      }
    }
    if (!cold.empty()) {
      WarmSummary w = warm(*shops, cold);
      for (const auto& [t, n] : w.warmed) {
        const auto& ts = std::find_if(st.by_type.begin(), st.by_type.end(), [&](const auto& x) { return x.first == t; })->second;
        actions.push_back({{"action", "warm"}, {"type", t}, {"entries", n},
                           {"because", "hit rate " + std::to_string(ts.hit_rate()).substr(0, 4) + " (" +
                                           std::to_string(ts.hits) + " hits, " + std::to_string(ts.misses) + " misses)"}});
      }
    }
    // Memory: ghost hits are misses on keys evicted recently, that more memory would have served.
    if (st.total.evictions > 0 && st.ghost_hits > 0 && st.total.misses > 0) {
      double share = static_cast<double>(st.ghost_hits) / static_cast<double>(st.total.misses);
      uint64_t suggest = st.memory_limit_bytes + static_cast<uint64_t>(static_cast<double>(st.memory_limit_bytes) * std::min(1.0, share));
      recommendations.push_back({{"setting", "cache-memory"}, {"recommended_bytes", suggest},
                                 {"current_bytes", st.memory_limit_bytes},
                                 {"because", std::to_string(st.ghost_hits) + " of " + std::to_string(st.total.misses) +
                                                 " misses were for recently evicted keys (" +
                                                 std::to_string(st.total.evictions) + " evictions)"}});
    } else if (st.total.evictions == 0 && st.peak_memory_bytes < st.memory_limit_bytes / 2) {
      recommendations.push_back({{"setting", "cache-memory"},
                                 {"recommended_bytes", std::max<uint64_t>(st.peak_memory_bytes * 2, 16ull << 20)},
                                 {"current_bytes", st.memory_limit_bytes},
                                 {"because", "no evictions, and the peak use was " + human_bytes(st.peak_memory_bytes) +
                                                 " of " + human_bytes(st.memory_limit_bytes)}});
    }
    // TTLs, from how long values stayed true. Every type but these two is filled with the
    // default TTL; theirs are set by meaning (a session's end, the shop's midnight).
    for (const auto& [name, t] : st.by_type) {
      if (name == "default" || name == "dashboard" || name == "sessions") continue;
      if (auto advice = ttl_advice(name, t, c->options().default_ttl, c->options().ttl_jitter)) {
        recommendations.push_back(std::move(*advice));
      }
    }
    return reply(200, {{"actions", actions}, {"recommendations", recommendations}, {"before", before},
                       {"after", stats_json(c, options_.invalidation)}});
  }));

  // The dashboard page: static and public; the data it fetches needs a token. Its policy lets it
  // load nothing from elsewhere and talk to this server alone.
  router.add(Method::kGet, "/cache", [](Request&) {
    Response r = Response::bytes(200, cache_page_html(), "text/html; charset=utf-8");
    r.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                 "connect-src 'self'; frame-ancestors 'none'");
    r.set_header("Cache-Control", "no-cache");
    return r;
  });

  router.add(Method::kGet, "/metrics", [this](Request&) {
    if (!options_.metrics_enabled) return http::error(404, "not_found", "metrics are turned off");
    std::string out;
    auto line = [&](const std::string& s) { out += s + "\n"; };
    if (cache::Cache* c = options_.cache) {
      cache::Stats st = c->stats();
      for (size_t i = 0; i < cache::kNumCounters; ++i) {
        const auto& info = cache::kCounterInfo[i];
        line(std::string("# HELP ") + info.prometheus_name + " " + info.help);
        line(std::string("# TYPE ") + info.prometheus_name + " counter");
        for (const auto& [name, t] : st.by_type) {
          line(std::string(info.prometheus_name) + "{type=\"" + name + "\"} " +
               std::to_string(t.get(static_cast<cache::Counter>(i))));
        }
      }
#define TAJIR_X(member, json_name, prom, help)                                              \
  line("# HELP " prom " " help);                                                             \
  line("# TYPE " prom " gauge");                                                             \
  for (const auto& [name, t] : st.by_type) line(std::string(prom) + "{type=\"" + name + "\"} " + std::to_string(t.member));
      TAJIR_CACHE_GAUGES(TAJIR_X)
#undef TAJIR_X
      line("# HELP tajir_cache_memory_limit_bytes The cache's memory budget.");
      line("# TYPE tajir_cache_memory_limit_bytes gauge");
      line("tajir_cache_memory_limit_bytes " + std::to_string(st.memory_limit_bytes));
      line("# HELP tajir_cache_invalidated_age_seconds Age of entries when an invalidation removed them.");
      line("# TYPE tajir_cache_invalidated_age_seconds summary");
      for (const auto& [name, t] : st.by_type) {
        const std::string labels = "{type=\"" + name + "\"";
        line("tajir_cache_invalidated_age_seconds" + labels + ",quantile=\"0.5\"} " +
             std::to_string(t.invalidated_age.quantile_ms(0.5) / 1000));
        line("tajir_cache_invalidated_age_seconds_sum" + labels + "} " +
             std::to_string(static_cast<double>(t.invalidated_age.sum_ms) / 1000));
        line("tajir_cache_invalidated_age_seconds_count" + labels + "} " + std::to_string(t.invalidated_age.count()));
      }
      line("# HELP tajir_cache_ghost_hits_total Misses on recently evicted keys.");
      line("# TYPE tajir_cache_ghost_hits_total counter");
      line("tajir_cache_ghost_hits_total " + std::to_string(st.ghost_hits));
    }
    RefillStats r = refill_stats();
    line("# HELP tajir_cache_refills_total Read entries a write dropped, loaded again in the background.");
    line("# TYPE tajir_cache_refills_total counter");
    line("tajir_cache_refills_total " + std::to_string(r.refilled));
    line("# HELP tajir_cache_refill_drops_total Refills not queued because the queue was full.");
    line("# TYPE tajir_cache_refill_drops_total counter");
    line("tajir_cache_refill_drops_total " + std::to_string(r.dropped));
    line("# HELP tajir_db_statements_total SQL statements run since start.");
    line("# TYPE tajir_db_statements_total counter");
    line("tajir_db_statements_total " + std::to_string(pos_->database().statements()));
    return Response::bytes(200, std::make_shared<const std::string>(std::move(out)),
                           "text/plain; version=0.0.4");
  });
}

}  // namespace tajir::api
