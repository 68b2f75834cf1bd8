// Bills: a sale in one transaction (stock checked and moved, the customer's totals, the shop's
// bill number), idempotent with a key; voids.
#include "api/bodies.h"
#include "api/input.h"
#include "api/loaders.h"
#include "api/maintained.h"
#include "api/routes.h"

namespace tajir::api {
namespace {

// What a committed bill or void (or one found committed: `change` null) drops, or keeps up to
// date (maintained.h), before it is answered.
Status after_sale(Context& c, const pos::Principal& p, const pos::Bill& bill,
                  const pos::SalesChange* change) {
  auto tags = c.reads.map().bill_written(p.shop_id, bill);
  std::optional<Maintenance> maintenance;
  if (change != nullptr) maintenance = maintain(c.reads, p.shop_id, *change);
  return c.writes.after_write(tags, maintenance ? &*maintenance : nullptr);
}

Response list(Context& c, Request& req, const pos::Principal& p) {
  Query q(req);
  pos::PageRequest page = page_of(q);
  pos::BillFilter f = bill_filter(q);
  if (!q.status().ok()) return http::from_status(q.status());
  return c.reads.serve(q, p.shop_id, "bills", bill_page(c, p, std::move(f), page));
}

Response create(Context& c, Request& req, const pos::Principal& p) {
  auto in = bill_input(req);
  if (!in.ok()) return http::from_status(in.status());
  std::optional<std::string> key;
  if (auto k = req.header("Idempotency-Key")) key = std::string(*k);
  bool replayed = false;
  std::optional<cache::Ticket> ticket = c.reads.ticket();  // before the transaction: see below
  pos::SalesChange change;
  auto bill = c.pos.create_bill(p, *in, key, &replayed, &change);
  // A replay answers about a committed bill too, perhaps while the first request is still
  // invalidating: it drops the same tags itself before it answers (dropping twice is harmless;
  // it has no change to bring the dashboard and bill pages up to date with).
  if (!bill.ok()) return http::from_status(bill.status());
  const Status told = after_sale(c, p, *bill, replayed ? nullptr : &change);
  if (told.ok() && !replayed && ticket) {
    // A new bill is read at once (the receipt, the back office): store what GET would load.
    // The ticket refuses it if a void of it was acknowledged meanwhile.
    c.reads.store_detail(p.shop_id, "bills", bill->id, dump(to_json(*bill)),
                         c.reads.map().bill(p.shop_id, bill->id), *ticket);
  }
  return reply(replayed ? 200 : 201, bill, told);
}

Response get(Context& c, Request& req, const pos::Principal& p, int64_t id) {
  return c.reads.serve(Query(req), p.shop_id, "bills", [&] {
    return filled(c.pos.bill(p, id), c.reads.map().bill(p.shop_id, id));
  });
}

Response void_bill(Context& c, Request&, const pos::Principal& p, int64_t id) {
  bool already_void = false;
  pos::SalesChange change;
  auto r = c.pos.void_bill(p, id, already_void, &change);
  if (!r.ok()) return http::from_status(r.status());
  // "Already void" reports a committed void too, perhaps one still invalidating: drop first.
  const Status told = after_sale(c, p, *r, already_void ? nullptr : &change);
  if (!told.ok()) return http::from_status(told);
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
