// Employees (owner and operator only); an employee with a username logs in as a cashier.
#include "api/bodies.h"
#include "api/input.h"
#include "api/loaders.h"
#include "api/routes.h"

namespace tajir::api {
namespace {

Response list(Context& c, Request& req, const pos::Principal& p) {
  Query q(req);
  pos::PageRequest page = page_of(q);
  if (!q.status().ok()) return http::from_status(q.status());
  return c.reads.serve(q, p.shop_id, "employees", [&]() -> Result<Filled> {
    auto r = c.pos.list_employees(p, page);
    if (!r.ok()) return r.status();
    std::vector<int64_t> ids;
    for (const auto& e : r->items) ids.push_back(e.id);
    return Filled{dump(to_json(*r)), c.reads.map().employee_page(p.shop_id, ids), std::nullopt};
  });
}

Response create(Context& c, Request& req, const pos::Principal& p) {
  auto in = employee_input(req);
  if (!in.ok()) return http::from_status(in.status());
  auto r = c.pos.create_employee(p, *in);
  if (!r.ok()) return http::from_status(r.status());
  return reply(201, r,
               c.writes.after_write(c.reads.map().employee_written(p.shop_id, r->id, true, false)));
}

Response get(Context& c, Request& req, const pos::Principal& p, int64_t id) {
  return c.reads.serve(Query(req), p.shop_id, "employees", [&] {
    return filled(c.pos.employee(p, id), c.reads.map().employee(p.shop_id, id));
  });
}

Response update(Context& c, Request& req, const pos::Principal& p, int64_t id) {
  auto in = employee_input(req);
  if (!in.ok()) return http::from_status(in.status());
  auto r = c.pos.update_employee(p, id, *in);
  // (De)activating an employee or changing its password ends its sessions: the cached ones too.
  bool logins_changed = in->active.has_value() || in->password.has_value();
  if (!r.ok()) return http::from_status(r.status());
  return reply(
      200, r,
      c.writes.after_write(c.reads.map().employee_written(p.shop_id, id, false, logins_changed)));
}

Response remove(Context& c, Request&, const pos::Principal& p, int64_t id) {
  Status st = c.pos.delete_employee(p, id);
  if (st.ok()) st = c.writes.after_write(c.reads.map().employee_written(p.shop_id, id, true, true));
  return reply_empty(st);
}

constexpr Route kRoutes[] = {
    {Method::kGet, "/api/employees", kManagers, list},
    {Method::kPost, "/api/employees", kManagers, create},
    {Method::kGet, "/api/employees/{id}", kManagers, with_id<get>},
    {Method::kPut, "/api/employees/{id}", kManagers, with_id<update>},
    {Method::kDelete, "/api/employees/{id}", kManagers, with_id<remove>},
};

}  // namespace

std::span<const Route> employee_routes() { return kRoutes; }

}  // namespace tajir::api
