// Bills: a sale in one transaction (stock checked and moved, the customer's totals, the shop's
// bill number), idempotent with a key; voids.
#include "api/bodies.h"
#include "api/input.h"
#include "api/loaders.h"
#include "api/routes.h"

namespace tajir::api {
namespace {

Response list(Context& c, Request& req, const pos::Principal& p) {
  Query q(req);
  pos::PageRequest page = page_of(q);
  pos::BillFilter f;
  f.from = q.time("from");
  f.to = q.time("to");
  // A date alone means the shop's midnight, not UTC's (Pos applies the shop's zone).
  f.from_is_date = f.from && pos::is_date(*req.query("from"));
  f.to_is_date = f.to && pos::is_date(*req.query("to"));
  f.customer_id = q.id("customer_id");
  f.status = q.text("status");
  if (f.status && *f.status != "paid" && *f.status != "void") {
    q.fail(InvalidArgument("status must be paid or void", "status"));
  }
  if (!q.status().ok()) return http::from_status(q.status());
  return c.reads.serve(q, p.shop_id, "bills", [&] {
    return filled(c.pos.list_bills(p, f, page), c.reads.map().bill_page(p.shop_id));
  });
}

Response create(Context& c, Request& req, const pos::Principal& p) {
  auto in = bill_input(req);
  if (!in.ok()) return http::from_status(in.status());
  std::optional<std::string> key;
  if (auto k = req.header("Idempotency-Key")) key = std::string(*k);
  bool replayed = false;
  std::optional<cache::Ticket> ticket = c.reads.ticket();  // before the transaction: see below
  auto bill = c.pos.create_bill(p, *in, key, &replayed);
  // A replay answers about a committed bill too, perhaps while the first request is still
  // invalidating: it drops the same tags itself before it answers (dropping twice is harmless).
  if (bill.ok()) c.writes.after_write(c.reads.map().bill_written(p.shop_id, *bill));
  if (bill.ok() && !replayed && ticket) {
    // A new bill is read at once (the receipt, the back office): store what GET would load.
    // The ticket refuses it if a void of it was acknowledged meanwhile.
    c.reads.store_detail(p.shop_id, "bills", bill->id, dump(to_json(*bill)),
                         c.reads.map().bill(p.shop_id, bill->id), *ticket);
  }
  return reply(replayed ? 200 : 201, bill);
}

Response get(Context& c, Request& req, const pos::Principal& p, int64_t id) {
  return c.reads.serve(Query(req), p.shop_id, "bills", [&] {
    return filled(c.pos.bill(p, id), c.reads.map().bill(p.shop_id, id));
  });
}

Response void_bill(Context& c, Request&, const pos::Principal& p, int64_t id) {
  bool already_void = false;
  auto r = c.pos.void_bill(p, id, already_void);
  if (!r.ok()) return http::from_status(r.status());
  // "Already void" reports a committed void too, perhaps one still invalidating: drop first.
  c.writes.after_write(c.reads.map().bill_written(p.shop_id, *r));
  if (already_void) {
    return http::from_status(Status(StatusCode::kFailedPrecondition, "bill is already void")
                                 .with_reason("already_void"));
  }
  return reply(200, to_json(*r));
}

constexpr Route kRoutes[] = {
    {Method::kGet, "/api/bills", kEveryone, list},
    {Method::kPost, "/api/bills", kEveryone, create},
    {Method::kGet, "/api/bills/{id}", kEveryone, with_id<get>},
    {Method::kPost, "/api/bills/{id}/void", kManagers, with_id<void_bill>},
};

}  // namespace

std::span<const Route> bill_routes() { return kRoutes; }

}  // namespace tajir::api
