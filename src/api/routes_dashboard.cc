// The revenue dashboard, and the health check.
#include "api/loaders.h"
#include "api/routes.h"

namespace tajir::api {
namespace {

Response get(Context& c, Request& req, const pos::Principal& p) {
  return c.reads.serve(Query(req), p.shop_id, "dashboard", dashboard(c, p));
}

Response healthz(Context& c, Request&, const pos::Principal&) {
  Status db = c.pos.database().ping();
  // Redis is a cache: without it the node answers from the database, degraded, not down.
  // Without its lease a node reads through Redis and the database: degraded too.
  const redis::Tier* tier = c.reads.redis();
  const redis::Group* group = c.reads.group();
  const bool redis_up = tier != nullptr && tier->stats().state == redis::TierState::kUp;
  const bool lease = group == nullptr || group->stats().serving;
  nlohmann::json body{
      {"status", db.ok() && (tier == nullptr || redis_up) && lease ? "ok" : "degraded"},
      {"db", db.ok() ? "ok" : "down"},
      {"redis", tier == nullptr ? "disabled"
                : redis_up      ? "ok"
                                : "down"}};
  if (group != nullptr) body["lease"] = lease ? "held" : "lost";
  return reply(db.ok() ? 200 : 503, body);
}

constexpr Route kRoutes[] = {
    {Method::kGet, "/api/dashboard", kEveryone, get},
    {Method::kGet, "/healthz", kPublic, healthz},
};

}  // namespace

std::span<const Route> dashboard_routes() { return kRoutes; }

}  // namespace tajir::api
