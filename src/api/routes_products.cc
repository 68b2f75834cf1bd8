// Products: the catalogue and its stock.
#include "api/bodies.h"
#include "api/input.h"
#include "api/loaders.h"
#include "api/routes.h"

namespace tajir::api {
namespace {

Response list(Context& c, Request& req, const pos::Principal& p) {
  Query q(req);
  pos::PageRequest page = page_of(q);
  pos::ProductFilter f = product_filter(q);
  if (!q.status().ok()) return http::from_status(q.status());
  return c.reads.serve(q, p.shop_id, "products", product_page(c, p, f, page));
}

Response create(Context& c, Request& req, const pos::Principal& p) {
  auto in = product_input(req);
  if (!in.ok()) return http::from_status(in.status());
  auto r = c.pos.create_product(p, *in);
  if (!r.ok()) return http::from_status(r.status());
  return reply(201, r,
               c.writes.after_write(c.reads.map().product_written(p.shop_id, nullptr, &*r)));
}

Response get(Context& c, Request& req, const pos::Principal& p, int64_t id) {
  return c.reads.serve(Query(req), p.shop_id, "products", product(c, p, id));
}

Response update(Context& c, Request& req, const pos::Principal& p, int64_t id) {
  auto in = product_input(req);
  if (!in.ok()) return http::from_status(in.status());
  auto r = c.pos.update_product(p, id, *in);
  if (!r.ok()) return http::from_status(r.status());
  Status told =
      c.writes.after_write(c.reads.map().product_written(p.shop_id, &r->before, &*r->after));
  if (!told.ok()) return http::from_status(told);
  return reply(200, to_json(*r->after));
}

Response remove(Context& c, Request&, const pos::Principal& p, int64_t id) {
  auto r = c.pos.delete_product(p, id);
  if (!r.ok()) return http::from_status(r.status());
  return reply_empty(c.writes.after_write(
      c.reads.map().product_written(p.shop_id, &r->before, r->after ? &*r->after : nullptr)));
}

constexpr Route kRoutes[] = {
    {Method::kGet, "/api/products", kEveryone, list},
    {Method::kPost, "/api/products", kManagers, create},
    {Method::kGet, "/api/products/{id}", kEveryone, with_id<get>},
    {Method::kPut, "/api/products/{id}", kManagers, with_id<update>},
    {Method::kDelete, "/api/products/{id}", kManagers, with_id<remove>},
};

}  // namespace

std::span<const Route> product_routes() { return kRoutes; }

}  // namespace tajir::api
