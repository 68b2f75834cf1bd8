// The dashboard: revenue and bill counts for the shop's local today, week (from Monday) and
// month, all time, the average bill, the five best products of the last 30 days by revenue,
// products at or below their low-stock threshold, and the ten latest bills. Paid bills only.
// Day boundaries come from the shop's IANA time zone (computed here, passed to SQL as unix ms,
// so the SQL is the same on both databases).
//
// No SUM here can overflow: every term is non-negative and a shop's paid bills sum to at most
// kMaxShopVolume in subtotals plus taxes, and to at most 5 * 10^17 in quantities (pos/money.h).
#include "pos/internal/rows.h"
#include "pos/pos.h"

namespace tajir::pos {

namespace {
constexpr int64_t kDayMs = 24 * 3600 * 1000;
constexpr int kTopProducts = 5;
constexpr int kRecentBills = 10;
constexpr int kLowStockListed = 50;
}  // namespace

Result<Dashboard> Pos::dashboard(const Principal& p) {
  Dashboard d;
  d.generated_at = now_ms();
  Status st = db_.read([&](db::Transaction& tx) -> Status {
    auto shop = tx.query("SELECT timezone FROM shops WHERE id = ?", {p.shop_id});
    if (!shop.ok()) return shop.status();
    if (shop->empty()) return NotFound("shop not found");
    internal::Boundaries b = internal::local_boundaries((*shop)[0].text(0), d.generated_at);
    d.valid_until = b.next_day;

    auto totals = tx.query(
        "SELECT "
        "COALESCE(SUM(CASE WHEN created_at >= ? THEN total ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN created_at >= ? THEN total ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN created_at >= ? THEN total ELSE 0 END), 0), "
        "COALESCE(SUM(total), 0), "
        "COALESCE(SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END), 0), "
        "COUNT(*) "
        "FROM bills WHERE shop_id = ? AND status = 'paid'",
        {b.day, b.week, b.month, b.day, b.week, b.month, p.shop_id});
    if (!totals.ok()) return totals.status();
    const db::Row& t = (*totals)[0];
    d.revenue = {t.integer(0), t.integer(1), t.integer(2), t.integer(3)};
    d.bills = {t.integer(4), t.integer(5), t.integer(6), t.integer(7)};
    d.average_bill =
        d.bills.all_time == 0 ? 0 : (d.revenue.all_time + d.bills.all_time / 2) / d.bills.all_time;

    auto top = tx.query(
        "SELECT i.product_id, MAX(i.name), SUM(i.quantity), SUM(i.line_total) AS revenue "
        "FROM bills b JOIN bill_items i ON i.bill_id = b.id "
        "WHERE b.shop_id = ? AND b.status = 'paid' AND b.created_at >= ? "
        "GROUP BY i.product_id ORDER BY revenue DESC, i.product_id LIMIT ?",
        {p.shop_id, d.generated_at - 30 * kDayMs, int64_t{kTopProducts}});
    if (!top.ok()) return top.status();
    for (const auto& r : *top) {
      d.top_products.push_back({r.integer(0), r.text(1), r.integer(2), r.integer(3)});
    }

    auto low = tx.query(std::string("SELECT ") + internal::kProductColumns +
                            " FROM products WHERE shop_id = ? AND active = 1 AND "
                            "stock <= low_stock_threshold ORDER BY stock, id LIMIT ?",
                        {p.shop_id, int64_t{kLowStockListed}});
    if (!low.ok()) return low.status();
    for (const auto& r : *low) d.low_stock.push_back(internal::product_from(r));

    auto recent = tx.query(std::string("SELECT ") + internal::kBillColumns +
                               " FROM bills WHERE shop_id = ? AND status = 'paid' "
                               "ORDER BY number DESC LIMIT ?",
                           {p.shop_id, int64_t{kRecentBills}});
    if (!recent.ok()) return recent.status();
    for (const auto& r : *recent) d.recent_bills.push_back(internal::bill_from(r));
    return OkStatus();
  });
  if (!st.ok()) return st;
  return d;
}

}  // namespace tajir::pos
