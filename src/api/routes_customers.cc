// Customers: who buys, with their paid bills' count and total.
#include "api/bodies.h"
#include "api/input.h"
#include "api/loaders.h"
#include "api/routes.h"

namespace tajir::api {
namespace {

Response list(Context& c, Request& req, const pos::Principal& p) {
  Query q(req);
  pos::PageRequest page = page_of(q);
  auto text = q.text("q");
  if (!q.status().ok()) return http::from_status(q.status());
  return c.reads.serve(q, p.shop_id, "customers", customer_page(c, p, std::move(text), page));
}

Response create(Context& c, Request& req, const pos::Principal& p) {
  auto in = customer_input(req);
  if (!in.ok()) return http::from_status(in.status());
  auto r = c.pos.create_customer(p, *in);
  if (!r.ok()) return http::from_status(r.status());
  return reply(201, r,
               c.writes.after_write(c.reads.map().customer_written(p.shop_id, r->id, true, true)));
}

Response get(Context& c, Request& req, const pos::Principal& p, int64_t id) {
  return c.reads.serve(Query(req), p.shop_id, "customers", [&] {
    return filled(c.pos.customer(p, id), c.reads.map().customer(p.shop_id, id));
  });
}

Response update(Context& c, Request& req, const pos::Principal& p, int64_t id) {
  auto in = customer_input(req);
  if (!in.ok()) return http::from_status(in.status());
  auto r = c.pos.update_customer(p, id, *in);
  if (!r.ok()) return http::from_status(r.status());
  bool searchable = in->name.has_value() || in->phone.has_value() || in->email.has_value();
  return reply(
      200, r,
      c.writes.after_write(c.reads.map().customer_written(p.shop_id, id, false, searchable)));
}

Response remove(Context& c, Request&, const pos::Principal& p, int64_t id) {
  Status st = c.pos.delete_customer(p, id);
  if (st.ok()) st = c.writes.after_write(c.reads.map().customer_written(p.shop_id, id, true, true));
  return reply_empty(st);
}

constexpr Route kRoutes[] = {
    {Method::kGet, "/api/customers", kEveryone, list},
    {Method::kPost, "/api/customers", kEveryone, create},
    {Method::kGet, "/api/customers/{id}", kEveryone, with_id<get>},
    {Method::kPut, "/api/customers/{id}", kManagers, with_id<update>},
    {Method::kDelete, "/api/customers/{id}", kManagers, with_id<remove>},
};

}  // namespace

std::span<const Route> customer_routes() { return kRoutes; }

}  // namespace tajir::api
