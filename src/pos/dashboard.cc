// The dashboard: revenue and bill counts for the shop's local today, week (from Monday) and
// month, all time, the average bill, the five best products of the last 30 days by revenue,
// products at or below their low-stock threshold, and the ten latest bills. Paid bills only.
// Day boundaries come from the shop's IANA time zone (computed here, passed to SQL as unix ms,
// so the SQL is the same on both databases).
//
// No SUM here can overflow: every term is non-negative and a shop's paid bills sum to at most
// kMaxShopVolume in subtotals plus taxes, and to at most 5 * 10^17 in quantities (pos/money.h).
//
// apply_change() is what a bill or a void does to a dashboard made before it, piece by piece,
// where the dashboard itself says what the piece becomes:
//   - the totals of each period: the bill's total and one bill, added or taken away, in the
//     periods (from the shop's zone and generated_at) its created_at falls in; the average;
//   - the top products: the dashboard keeps (unshown) the 30 best as read, exactly, and a
//     ceiling on the revenue of every other product (the 31st's when read). A sale adds its
//     lines to known products (which can only move up); a product not known enters if the
//     list is complete (fewer than 30: every product sold in the window is known); otherwise
//     it had at most the ceiling, has at most that plus what it sold since (kept per product),
//     and the five shown stay exact while the most of those stays below the fifth (until such
//     a sale, the others all come after the 30th, as read); a known product's name
//     is the largest of its lines' (MAX), kept only when the new line's name is the same (the
//     database's collation decides which name is larger). A void of a bill in the window is
//     applied only when none of its products is known (a known one may fall below one we do
//     not know);
//   - the low-stock list: the bill's products as the change left them, each put in its place
//     by (stock, id); when the list is full, a product that leaves it (or moves past its last)
//     lets in one we do not know;
//   - the recent bills: a sale comes first (its number is the newest); a void of a listed
//     bill lets in an older one we do not know when the list is full.
// Anything else returns false, and the caller drops the dashboard.
#include <algorithm>
#include <tuple>

#include "pos/internal/rows.h"
#include "pos/pos.h"

namespace tajir::pos {

namespace {
constexpr int64_t kDayMs = 24 * 3600 * 1000;
constexpr int64_t kTopWindowMs = 30 * kDayMs;
constexpr size_t kTopProducts = 5;
constexpr size_t kTopKnown = 30;   // read, so that sales of the products below the top five apply
constexpr size_t kTopGains = 100;  // products not known whose sales a dashboard keeps track of
constexpr size_t kRecentBills = 10;
constexpr size_t kLowStockListed = 50;
// What generated_at is known to, in a dashboard read back from its JSON (format_time).
constexpr int64_t kGeneratedPrecisionMs = 1000;

int64_t average(const Dashboard& d) {
  return d.bills.all_time == 0 ? 0 : (d.revenue.all_time + d.bills.all_time / 2) / d.bills.all_time;
}
}  // namespace

Result<Dashboard> Pos::dashboard(const Principal& p, std::optional<int64_t> at) {
  Dashboard d;
  d.generated_at = at.value_or(now_ms());
  Status st = db_.read([&](db::Transaction& tx) -> Status {
    auto shop = tx.query("SELECT timezone, change_seq FROM shops WHERE id = ?", {p.shop_id});
    if (!shop.ok()) return shop.status();
    if (shop->empty()) return NotFound("shop not found");
    internal::Boundaries b = internal::local_boundaries((*shop)[0].text(0), d.generated_at);
    d.valid_until = b.next_day;
    d.change_seq = (*shop)[0].integer(1);

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
    d.average_bill = average(d);

    auto top = tx.query(
        "SELECT i.product_id, MAX(i.name), SUM(i.quantity), SUM(i.line_total) AS revenue "
        "FROM bills b JOIN bill_items i ON i.bill_id = b.id "
        "WHERE b.shop_id = ? AND b.status = 'paid' AND b.created_at >= ? "
        "GROUP BY i.product_id ORDER BY revenue DESC, i.product_id LIMIT ?",
        {p.shop_id, d.generated_at - kTopWindowMs, int64_t{kTopKnown + 1}});
    if (!top.ok()) return top.status();
    for (const auto& r : *top) {
      Dashboard::TopProduct t{r.integer(0), r.text(1), r.integer(2), r.integer(3)};
      if (d.top_products.size() < kTopProducts)
        d.top_products.push_back(std::move(t));
      else if (d.top_more.size() < kTopKnown - kTopProducts)
        d.top_more.push_back(std::move(t));
      else
        d.top_ceiling = t.revenue;  // the best of the rest
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

namespace {

// A bill's lines summed per product (quantity, revenue, name); nullopt when two lines of one
// product carry different names (one transaction reads one name, so never) or an amount is
// negative (pos/money.h allows none).
std::optional<std::vector<Dashboard::TopProduct>> per_product(const Bill& b) {
  std::vector<Dashboard::TopProduct> out;
  for (const BillItem& i : b.items) {
    if (i.quantity < 0 || i.line_total < 0) return std::nullopt;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const auto& t) { return t.product_id == i.product_id; });
    if (it == out.end()) {
      out.push_back({i.product_id, i.name, i.quantity, i.line_total});
    } else {
      if (it->name != i.name) return std::nullopt;
      it->quantity += i.quantity;
      it->revenue += i.line_total;
    }
  }
  return out;
}

bool apply_to_top(const SalesChange& c, Dashboard& d) {
  // The window starts 30 days before the instant the dashboard was made, which lies in
  // [generated_at, generated_at + precision): a bill inside that margin is not decided.
  const int64_t earliest = d.generated_at - kTopWindowMs;
  const int64_t latest = earliest + kGeneratedPrecisionMs - 1;
  if (c.bill.created_at < earliest) return true;  // outside the window: no product moves
  if (c.bill.created_at < latest) return false;
  auto lines = per_product(c.bill);
  if (!lines) return false;
  // The products known exactly: those shown and those kept below them. Every other product sold
  // in the window had at most top_ceiling, and until one of them gains, all of them come after
  // the last known one (as read), so that the five shown are the first five known.
  std::vector<Dashboard::TopProduct> known = std::move(d.top_products);
  known.insert(known.end(), d.top_more.begin(), d.top_more.end());
  const bool complete = known.size() < kTopKnown;  // every product sold in the window is known
  const bool sale = c.bill.status == "paid";
  bool gained = false;  // a product not known sold
  for (const auto& line : *lines) {
    auto it = std::find_if(known.begin(), known.end(),
                           [&](const auto& t) { return t.product_id == line.product_id; });
    if (!sale) {
      // A known product falls, perhaps below one not known (and its name, the largest of its
      // lines', may be the one going); a complete list knows every product of the bill.
      if (it != known.end() || complete) return false;
    } else if (it != known.end()) {
      if (it->name != line.name) return false;
      it->quantity += line.quantity;
      it->revenue += line.revenue;
    } else if (complete) {
      known.push_back(line);  // it sold nothing in the window before, or it would be known
    } else {
      auto g = std::find_if(d.top_gains.begin(), d.top_gains.end(),
                            [&](const auto& x) { return x.first == line.product_id; });
      if (g == d.top_gains.end()) g = d.top_gains.insert(g, {line.product_id, 0});
      g->second += line.revenue;
      gained = line.revenue > 0 || gained;
    }
  }
  if (d.top_gains.size() > kTopGains) return false;
  std::sort(known.begin(), known.end(), [](const auto& a, const auto& b) {
    return std::tie(b.revenue, a.product_id) < std::tie(a.revenue, b.product_id);
  });
  if (known.size() > kTopKnown) {  // from a complete list: what falls off is known exactly
    d.top_ceiling = std::max(d.top_ceiling, known[kTopKnown].revenue);
    known.resize(kTopKnown);
  }
  if (gained) {
    // A product not known had at most the ceiling; now at most that plus what it gained since.
    // It must stay below the fifth (one with as much may come first, by its id).
    int64_t most = 0;
    for (const auto& [id, g] : d.top_gains) most = std::max(most, g);
    if (d.top_ceiling + most >= known[kTopProducts - 1].revenue) return false;
  }
  const size_t shown = std::min(known.size(), kTopProducts);
  d.top_products.assign(known.begin(), known.begin() + static_cast<long>(shown));
  d.top_more.assign(known.begin() + static_cast<long>(shown), known.end());
  return true;
}

bool apply_to_low_stock(const SalesChange& c, Dashboard& d) {
  auto key = [](const Product& p) { return std::pair(p.stock, p.id); };
  auto& low = d.low_stock;
  const bool full = low.size() >= kLowStockListed;
  // Every low-stock product not listed comes after the last listed one.
  const std::pair<int64_t, int64_t> last = full ? key(low.back()) : std::pair(INT64_MAX, INT64_MAX);
  for (const BillItem& item : c.bill.items) {
    if (std::none_of(c.products.begin(), c.products.end(),
                     [&](const Product& p) { return p.id == item.product_id; })) {
      return false;  // the change did not say what it left of this product
    }
  }
  for (const Product& row : c.products) {
    auto listed =
        std::find_if(low.begin(), low.end(), [&](const Product& p) { return p.id == row.id; });
    const bool was_listed = listed != low.end();
    if (was_listed) low.erase(listed);
    const bool is_low = row.active && row.stock <= row.low_stock_threshold;
    const bool within = !full || key(row) < last;
    if (!is_low || !within) {
      if (was_listed && full) return false;  // the next low-stock product moves up
      continue;
    }
    low.insert(
        std::upper_bound(low.begin(), low.end(), row,
                         [&](const Product& x, const Product& y) { return key(x) < key(y); }),
        row);
  }
  if (low.size() > kLowStockListed) low.resize(kLowStockListed);
  return true;
}

bool apply_to_recent(const SalesChange& c, Dashboard& d) {
  auto& recent = d.recent_bills;
  const bool full = recent.size() >= kRecentBills;
  if (c.bill.status == "paid") {
    if (!recent.empty() && recent.front().number >= c.bill.number) return false;
    Bill summary = c.bill;
    summary.items.clear();
    recent.insert(recent.begin(), std::move(summary));
    if (recent.size() > kRecentBills) recent.resize(kRecentBills);
    return true;
  }
  auto it =
      std::find_if(recent.begin(), recent.end(), [&](const Bill& b) { return b.id == c.bill.id; });
  if (it == recent.end()) {
    // Not listed: older than every listed bill, since the list is full.
    return full && c.bill.number < recent.back().number;
  }
  if (full) return false;  // the next older paid bill moves in
  recent.erase(it);
  return true;
}

}  // namespace

bool apply_change(const SalesChange& c, Dashboard& d) {
  const Bill& b = c.bill;
  if (b.status != "paid" && b.status != "void") return false;
  const int64_t sign = b.status == "paid" ? 1 : -1;
  const internal::Boundaries at = internal::local_boundaries(c.timezone, d.generated_at);
  auto count = [&](int64_t& revenue, int64_t& bills, bool in) {
    if (!in) return;
    revenue += sign * b.total;
    bills += sign;
  };
  count(d.revenue.today, d.bills.today, b.created_at >= at.day);
  count(d.revenue.week, d.bills.week, b.created_at >= at.week);
  count(d.revenue.month, d.bills.month, b.created_at >= at.month);
  count(d.revenue.all_time, d.bills.all_time, true);
  if (d.bills.all_time < 0 || d.revenue.all_time < 0) return false;
  d.average_bill = average(d);
  return apply_to_top(c, d) && apply_to_low_stock(c, d) && apply_to_recent(c, d);
}

}  // namespace tajir::pos
