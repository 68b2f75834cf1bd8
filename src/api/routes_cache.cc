// The cache's management endpoints (API.md "Cache management"): warm, clear, stats,
// stats/history and optimize; /metrics; and the page at /cache that plots them.
//
// The owner acts on its own shop; the operator on the shop it names ("shop_id" in the body, or
// ?shop_id= / X-Shop-Id) or, without one, on every shop. Statistics are the whole cache's
// (they are counted per value type, not per shop).
#include "api/cache_page.h"
#include "api/cache_report.h"
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
  WarmSummary w = api::warm(c, *shops, *types);
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
  return reply(200, {{"cleared", c.reads.invalidate(tags, cache::InvalidationCause::kClear)}});
}

Response stats(Context& c, Request&, const pos::Principal&) {
  json out = stats_json(c.reads.engine(), c.options.invalidation);
  RefillStats r = c.writes.refill_stats();
  out["refill"] = {
      {"enabled", c.writes.refill_enabled()}, {"refilled", r.refilled}, {"dropped", r.dropped}};
  return reply(200, out);
}

Response history(Context& c, Request& req, const pos::Principal&) {
  Query q(req);
  int64_t minutes = q.integer("minutes", 1, 7 * 24 * 60, 60);
  if (!q.status().ok()) return http::from_status(q.status());
  json points = json::array();
  if (const cache::Cache* e = c.reads.engine()) {
    auto per_point = std::max<int64_t>(1, e->options().history_interval.count() / 60'000);
    for (const auto& pt : e->history(static_cast<size_t>(minutes / per_point))) {
      auto at =
          std::chrono::duration_cast<std::chrono::milliseconds>(pt.at.time_since_epoch()).count();
      points.push_back({{"at", pos::format_time(at)},
                        {"hits", pt.hits},
                        {"misses", pt.misses},
                        {"hit_rate", pt.hit_rate()},
                        {"keys", pt.keys},
                        {"memory_bytes", pt.memory_bytes}});
    }
  }
  return reply(200, {{"points", points}});
}

Response optimize(Context& c, Request& req, const pos::Principal& p) {
  cache::Cache* e = c.reads.engine();
  if (e == nullptr) return http::from_status({StatusCode::kFailedPrecondition, "the cache is off"});
  auto in = body_or_empty(req);
  if (!in.ok()) return http::from_status(in.status());
  auto shops = target_shops(c.pos, p, *in);
  if (!shops.ok()) return http::from_status(shops.status());
  json before = stats_json(e, c.options.invalidation);
  cache::Stats st = e->stats();
  json actions = json::array(), recommendations = json::array();
  actions.push_back({{"action", "reclaim_expired"}, {"entries", e->run_maintenance()}});
  // Warm the warmable types that miss more than they hit.
  std::vector<std::string> cold;
  for (const auto& [name, t] : st.by_type) {
    if (pos::is_warmable_type(name) && t.misses > t.hits) cold.push_back(name);
  }
  for (const auto& [t, n] : api::warm(c, *shops, cold).warmed) {
    auto of = std::find_if(st.by_type.begin(), st.by_type.end(),
                           [&type = t](const auto& x) { return x.first == type; });
    actions.push_back(
        {{"action", "warm"}, {"type", t}, {"entries", n}, {"because", hit_rate_text(of->second)}});
  }
  if (auto advice = memory_advice(st)) recommendations.push_back(std::move(*advice));
  // TTLs, from how long values stayed true. Every type but these two is filled with the
  // default TTL; theirs are set by meaning (a session's end, the shop's midnight).
  for (const auto& [name, t] : st.by_type) {
    if (name == "default" || name == "dashboard" || name == "sessions") continue;
    if (auto advice = ttl_advice(name, t, e->options().default_ttl, e->options().ttl_jitter)) {
      recommendations.push_back(std::move(*advice));
    }
  }
  return reply(200, {{"actions", actions},
                     {"recommendations", recommendations},
                     {"before", before},
                     {"after", stats_json(e, c.options.invalidation)}});
}

// The dashboard page: static and public; the data it fetches needs a token. Its policy lets it
// load nothing from elsewhere and talk to this server alone.
Response page(Context&, Request&, const pos::Principal&) {
  Response r = Response::bytes(200, cache_page_html(), "text/html; charset=utf-8");
  r.set_header("Content-Security-Policy",
               "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
               "connect-src 'self'; frame-ancestors 'none'");
  r.set_header("Cache-Control", "no-cache");
  return r;
}

Response metrics(Context& c, Request&, const pos::Principal&) {
  if (!c.options.metrics_enabled) return http::error(404, "not_found", "metrics are turned off");
  std::string text =
      metrics_text(c.reads.engine(), c.writes.refill_stats(), c.pos.database().statements());
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
    {Method::kPost, "/api/cache/optimize", kManagersAnyShop, optimize},
    {Method::kGet, "/cache", kPublic, page},
    {Method::kGet, "/metrics", kPublic, metrics},
};

}  // namespace

std::span<const Route> cache_routes() { return kRoutes; }

}  // namespace tajir::api
