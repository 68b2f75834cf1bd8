// The shop's own settings.
#include "api/bodies.h"
#include "api/loaders.h"
#include "api/routes.h"

namespace tajir::api {
namespace {

Response get(Context& c, Request& req, const pos::Principal& p) {
  return c.reads.serve(Query(req), p.shop_id, "shop",
                       [&] { return filled(c.pos.shop(p), c.reads.map().shop(p.shop_id)); });
}

Response update(Context& c, Request& req, const pos::Principal& p) {
  auto in = shop_input(req);
  if (!in.ok()) return http::from_status(in.status());
  auto r = c.pos.update_shop(p, *in);
  if (!r.ok()) return http::from_status(r.status());
  return reply(
      200, r,
      c.writes.after_write(c.reads.map().shop_written(p.shop_id, in->timezone.has_value())));
}

constexpr Route kRoutes[] = {
    {Method::kGet, "/api/shop", kEveryone, get},
    {Method::kPut, "/api/shop", kManagers, update},
};

}  // namespace

std::span<const Route> shop_routes() { return kRoutes; }

}  // namespace tajir::api
