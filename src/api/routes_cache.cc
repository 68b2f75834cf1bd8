// The cache's management endpoints (API.md "Cache management"): warm, clear, stats,
// stats/history and optimize; /metrics; and the page at /cache that plots them.
//
// The owner acts on its own shop; the operator on the shop it names ("shop_id" in the body, or
// ?shop_id= / X-Shop-Id) or, without one, on every shop. Statistics, history and optimize's
// figures have the same scope: one shop's (cache_report.h says which fields), or the whole
// server's for the operator naming none.
#include <functional>

#include "api/cache_page.h"
#include "api/cache_report.h"
#include "api/forecast.h"
#include "api/input.h"
#include "api/loaders.h"
#include "api/routes.h"

namespace tajir::api {
namespace {

using nlohmann::json;

// "types": ["products", ...] | "all" (default), or the legacy "cache_type": "all" | "products".
Result<std::vector<std::string>> requested_types(const Input& in,
                                                 const std::vector<std::string>& allowed) {
  const json* types = in.member("types");
  if (types == nullptr) types = in.member("cache_type");
  if (types == nullptr || (types->is_string() && types->get<std::string>() == "all"))
    return allowed;
  std::vector<std::string> out;
  auto take = [&](const json& v) -> Status {
    if (!v.is_string())
      return InvalidArgument("types must be \"all\" or a list of type names", "types");
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
Result<std::vector<int64_t>> target_shops(pos::Pos& pos, const pos::Principal& p, const Input& in) {
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
  if (p.shop_id != 0) return std::vector<int64_t>{p.shop_id};  // named with ?shop_id= or X-Shop-Id
  return pos.shop_ids();
}

// The shop whose figures a call reports: the owner's, the one the operator named, or 0 (the
// whole server). `shops` is what target_shops() answered for the same call.
int64_t scope_of(const pos::Principal& p, const Input& in, const std::vector<int64_t>& shops) {
  if (p.role != pos::Role::kOperator || p.shop_id != 0) return p.shop_id;
  const json* shop = in.member("shop_id");
  return shop != nullptr && !shop->is_null() && shops.size() == 1 ? shops.front() : 0;
}

Result<Input> body_or_empty(const Request& req) {
  return Input::parse(req.body.empty() ? std::string_view("{}") : std::string_view(req.body));
}

Response warm(Context& c, Request& req, const pos::Principal& p) {
  auto in = body_or_empty(req);
  if (!in.ok()) return http::from_status(in.status());
  auto types = requested_types(*in, pos::warmable_types());
  if (!types.ok()) return http::from_status(types.status());
  auto shops = target_shops(c.pos, p, *in);
  if (!shops.ok()) return http::from_status(shops.status());
  WarmSummary w = api::warm(c, *shops, *types, WarmCause::kManual);
  json warmed = json::object();
  for (const auto& [t, n] : w.warmed) warmed[t] = n;
  return reply(
      200,
      {{"warmed", warmed}, {"total", w.total}, {"ms", w.took.count()}, {"shops", shops->size()}});
}

Response clear(Context& c, Request& req, const pos::Principal& p) {
  auto in = body_or_empty(req);
  if (!in.ok()) return http::from_status(in.status());
  auto types = requested_types(*in, pos::cache_types());
  if (!types.ok()) return http::from_status(types.status());
  std::vector<std::string> tags;
  const json* shop = in->member("shop_id");
  bool everywhere =
      p.role == pos::Role::kOperator && p.shop_id == 0 && (shop == nullptr || shop->is_null());
  if (everywhere) {
    for (const auto& t : *types) tags.push_back(pos::CacheMap::type_tag(t));
  } else {
    auto shops = target_shops(c.pos, p, *in);
    if (!shops.ok()) return http::from_status(shops.status());
    for (int64_t s : *shops) {
      for (const auto& t : *types) tags.push_back(pos::CacheMap::type_tag(t, s));
    }
  }
  auto cleared = c.reads.invalidate(tags, cache::InvalidationCause::kClear);
  if (!cleared.ok()) return http::from_status(cleared.status());
  return reply(200, {{"cleared", *cleared}});
}

// The server scope's auto_tune: its bounds and its last changes (every shop's settings).
json auto_tune_json(const AutoTuner* tuner) {
  if (tuner == nullptr) return {{"enabled", false}};
  const AutoTuner::Options& o = tuner->options();
  json changes = json::array();
  for (const AutoTuner::Change& ch : tuner->changes()) {
    changes.push_back({{"at", pos::format_time(ch.at_ms)},
                       {"setting", ch.setting},
                       {"from", ch.from},
                       {"to", ch.to},
                       {"because", ch.because},
                       {"outcome", ch.outcome}});
  }
  return {{"enabled", true},
          {"memory_bytes", {{"min", o.min_memory}, {"max", o.max_memory}}},
          {"ttl_seconds", {{"min", o.min_ttl.count()}, {"max", o.max_ttl.count()}}},
          {"period_seconds", o.period.count() / 1000},
          {"changes", std::move(changes)}};
}

Response stats(Context& c, Request&, const pos::Principal& p) {
  json out = stats_json(c.reads, p.shop_id, c.options.invalidation);
  out["refill"] = {{"enabled", c.writes.refill_enabled()}};
  if (p.shop_id == 0) {  // the refill's counts and the auto-tune's settings are every shop's
    out["auto_tune"] = auto_tune_json(c.tuner);
    RefillStats r = c.writes.refill_stats();
    out["refill"]["refilled"] = r.refilled;
    out["refill"]["dropped"] = r.dropped;
  }
  return reply(200, out);
}

using PointJson = std::function<json(int64_t at_ms, uint64_t hits, uint64_t misses, uint64_t keys,
                                     uint64_t memory_bytes)>;

// The stored rows of hours=N or days=N (pos/cache_history.h), oldest first; the row whose
// span holds now is `partial`.
Status stored_history(Context& c, const pos::Principal& p, pos::CacheRollup rollup, int64_t n,
                      json& out, const PointJson& point) {
  auto rows = c.pos.cache_history(p.shop_id, rollup, n);
  if (!rows.ok()) return rows.status();
  const int64_t span = static_cast<int64_t>(rollup);
  out["interval_seconds"] = span / 1000;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const pos::CacheHistoryPoint& r : *rows) {
    out["points"].push_back(point(r.at_ms, r.hits, r.misses, r.keys, r.memory_bytes));
    if (now < r.at_ms + span) out["points"].back()["partial"] = true;
  }
  return OkStatus();
}

Response history(Context& c, Request& req, const pos::Principal& p) {
  Query q(req);
  const int64_t minutes = q.integer("minutes", 1, 7 * 24 * 60, 0);
  const int64_t hours = q.integer("hours", 1, c.options.history_limits.hours, 0);
  const int64_t days = q.integer("days", 1, c.options.history_limits.days, 0);
  if ((minutes != 0) + (hours != 0) + (days != 0) > 1)
    q.fail(InvalidArgument("give one of minutes, hours and days", hours != 0 ? "hours" : "days"));
  if (!q.status().ok()) return http::from_status(q.status());
  json out = {{"scope", p.shop_id == 0 ? "server" : "shop"}, {"points", json::array()}};
  if (p.shop_id != 0) out["shop_id"] = p.shop_id;
  const cache::Cache* e = c.reads.engine();
  if (e == nullptr) return reply(200, out);
  const PointJson point = [](int64_t at_ms, uint64_t hits, uint64_t misses, uint64_t keys,
                             uint64_t memory) {
    return json{
        {"at", pos::format_time(at_ms)},
        {"hits", hits},
        {"misses", misses},
        {"hit_rate",
         hits + misses == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(hits + misses)},
        {"keys", keys},
        {"memory_bytes", memory}};
  };
  if (hours != 0 || days != 0) {
    if (!c.options.stored_history) return reply(200, out);
    Status st = stored_history(c, p, hours != 0 ? pos::CacheRollup::kHour : pos::CacheRollup::kDay,
                               hours != 0 ? hours : days, out, point);
    return st.ok() ? reply(200, out) : http::from_status(st);
  }
  const int64_t interval_ms = e->options().history_interval.count();
  out["interval_seconds"] = interval_ms / 1000;
  const auto max_points = static_cast<size_t>((minutes != 0 ? minutes : 60) /
                                              std::max<int64_t>(1, interval_ms / 60'000));
  json& points = out["points"];
  if (p.shop_id != 0) {
    for (const ShopStats::Point& pt : c.reads.shops().history(p.shop_id, max_points)) {
      points.push_back(point(pt.at_ms, pt.hits, pt.misses, pt.keys, pt.memory_bytes));
      if (pt.partial) points.back()["partial"] = true;
    }
  } else {
    for (const auto& pt : e->history(max_points)) {
      auto at =
          std::chrono::duration_cast<std::chrono::milliseconds>(pt.at.time_since_epoch()).count();
      points.push_back(point(at, pt.hits, pt.misses, pt.keys, pt.memory_bytes));
    }
  }
  return reply(200, out);
}

// The coming hours' requests and hit rate by a seasonal mean of the stored hourly history
// (api/forecast.h), and how far that rule was off over the last day.
Response forecast(Context& c, Request& req, const pos::Principal& p) {
  Query q(req);
  const int64_t hours = q.integer("hours", 1, 48, 12);
  if (!q.status().ok()) return http::from_status(q.status());
  json out = {{"scope", p.shop_id == 0 ? "server" : "shop"},
              {"interval_seconds", static_cast<int64_t>(pos::CacheRollup::kHour) / 1000},
              {"points", json::array()}};
  if (p.shop_id != 0) out["shop_id"] = p.shop_id;
  std::vector<pos::CacheHistoryPoint> rows;
  if (c.reads.engine() != nullptr && c.options.stored_history) {
    auto stored =
        c.pos.cache_history(p.shop_id, pos::CacheRollup::kHour, c.options.history_limits.hours);
    if (!stored.ok()) return http::from_status(stored.status());
    rows = std::move(*stored);
  }
  const int64_t now = pos::now_ms();
  auto number = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  for (const HourForecast& f : api::forecast(rows, now, static_cast<int>(hours))) {
    out["points"].push_back({{"at", pos::format_time(f.at_ms)},
                             {"requests", number(f.requests)},
                             {"hit_rate", number(f.hit_rate)},
                             {"basis", f.basis},
                             {"seasons", f.seasons}});
  }
  const ForecastError e = backtest(rows, now, 24);
  out["error"] = {{"hours", e.hours},
                  {"requests_mape", number(e.requests_mape)},
                  {"hit_rate_mae", number(e.hit_rate_mae)}};
  return reply(200, out);
}

// Warms the warmable types that miss more than they hit, by `misses_hits` of a type (the
// scope's figures), naming them in each action.
template <typename Figures>
void warm_cold_types(Context& c, const std::vector<int64_t>& shops, json& actions,
                     Figures misses_hits) {
  std::vector<std::string> cold;
  for (const std::string& t : pos::warmable_types()) {
    auto [misses, hits] = misses_hits(t);
    if (misses > hits) cold.push_back(t);
  }
  for (const auto& [t, n] : api::warm(c, shops, cold, WarmCause::kOptimize).warmed) {
    auto [misses, hits] = misses_hits(t);
    actions.push_back({{"action", "warm"},
                       {"type", t},
                       {"entries", n},
                       {"because", hit_rate_text(hits, misses)}});
  }
}

Response optimize(Context& c, Request& req, const pos::Principal& p) {
  cache::Cache* e = c.reads.engine();
  if (e == nullptr) return http::from_status({StatusCode::kFailedPrecondition, "the cache is off"});
  auto in = body_or_empty(req);
  if (!in.ok()) return http::from_status(in.status());
  auto shops = target_shops(c.pos, p, *in);
  if (!shops.ok()) return http::from_status(shops.status());
  const int64_t scope = scope_of(p, *in, *shops);
  json before = stats_json(c.reads, scope, c.options.invalidation);
  json actions = json::array(), recommendations = json::array();
  if (scope != 0) {  // how many entries expired is every shop's figure
    e->run_maintenance();
    actions.push_back({{"action", "reclaim_expired"}});
    const ShopStats::Counts n = c.reads.shops().counts(scope);
    warm_cold_types(c, *shops, actions, [&](const std::string& t) {
      const cache::TypeId id = c.reads.type_id(t);
      return std::pair{n.misses[id], n.hits[id]};
    });
    recommendations = shop_advice(c.reads, scope);
  } else {
    cache::Stats st = e->stats();
    actions.push_back({{"action", "reclaim_expired"}, {"entries", e->run_maintenance()}});
    warm_cold_types(c, *shops, actions, [&](const std::string& t) {
      auto of = std::find_if(st.by_type.begin(), st.by_type.end(),
                             [&](const auto& x) { return x.first == t; });
      return of == st.by_type.end() ? std::pair<uint64_t, uint64_t>{0, 0}
                                    : std::pair{of->second.misses, of->second.hits};
    });
    if (auto advice = memory_advice(st)) recommendations.push_back(std::move(*advice));
    for (json& advice : ttl_advices(st, e->default_ttl(), e->options().ttl_jitter))
      recommendations.push_back(std::move(advice));
  }
  return reply(200, {{"scope", scope == 0 ? "server" : "shop"},
                     {"actions", actions},
                     {"recommendations", recommendations},
                     {"before", before},
                     {"after", stats_json(c.reads, scope, c.options.invalidation)}});
}

// The dashboard page and its files: static and public; the data it fetches needs a token. Their
// policy lets the page load nothing from elsewhere, run no inline script or style, and talk to
// this server alone.
Response web(std::string_view name) {
  const WebFile* f = web_file(name);
  if (f == nullptr) return http::error(404, "not_found", "no such file");
  Response r = Response::bytes(200, f->bytes, std::string(f->content_type));
  r.set_header("Content-Security-Policy",
               "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("Cache-Control", "no-cache");
  return r;
}

Response page(Context&, Request&, const pos::Principal&) { return web("cache.html"); }
Response page_file(Context&, Request& req, const pos::Principal&) { return web(req.param("file")); }

Response metrics(Context& c, Request&, const pos::Principal&) {
  if (!c.options.metrics_enabled) return http::error(404, "not_found", "metrics are turned off");
  std::string text = metrics_text(c.reads.engine(), c.writes.refill_stats(),
                                  c.pos.database().statements(), c.reads.redis(), c.reads.group());
  if (c.reads.engine() != nullptr) text += warm_metrics_text(c.reads.warmed());
  text += c.limits.metrics_text();
  return Response::bytes(200, std::make_shared<const std::string>(std::move(text)),
                         "text/plain; version=0.0.4");
}

constexpr unsigned kManagersAnyShop = kManagers | kAnyShop;

constexpr Route kRoutes[] = {
    {Method::kPost, "/api/cache/warm", kManagersAnyShop, warm},
    {Method::kPost, "/api/cache/clear", kManagersAnyShop, clear},
    {Method::kGet, "/api/cache/stats", kManagersAnyShop, stats},
    {Method::kGet, "/api/cache/stats/history", kManagersAnyShop, history},
    {Method::kGet, "/api/cache/stats/forecast", kManagersAnyShop, forecast},
    {Method::kPost, "/api/cache/optimize", kManagersAnyShop, optimize},
    {Method::kGet, "/cache", kPublic, page},
    {Method::kGet, "/cache/{file}", kPublic, page_file},
    {Method::kGet, "/metrics", kPublic, metrics},
};

}  // namespace

std::span<const Route> cache_routes() { return kRoutes; }

}  // namespace tajir::api
