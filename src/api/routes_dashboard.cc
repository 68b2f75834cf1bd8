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
  // Without its database it answers nothing that is not cached: down, and a balancer should
  // ask again soon (a database that comes back is picked up without a restart).
  const char* status = !db.ok()                                 ? "down"
                       : (tier == nullptr || redis_up) && lease ? "ok"
                                                                : "degraded";
  nlohmann::json body{{"status", status},
                      {"db", db.ok() ? "ok" : "down"},
                      {"redis", tier == nullptr ? "disabled"
                                : redis_up      ? "ok"
                                                : "down"}};
  if (group != nullptr) body["lease"] = lease ? "held" : "lost";
  if (db.ok()) return reply(200, body);
  Response r = reply(503, body);
  r.set_header("Retry-After", "1");
  return r;
}

constexpr Route kRoutes[] = {
    {Method::kGet, "/api/dashboard", kEveryone, get},
    {Method::kGet, "/healthz", kPublic, healthz},
};

}  // namespace

std::span<const Route> dashboard_routes() { return kRoutes; }

}  // namespace tajir::api
