#include "api/serialize.h"

namespace tajir::api {
namespace {

using nlohmann::json;

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
json time(int64_t ms) { return pos::format_time(ms); }

json bill_summary(const pos::Bill& b) {
  return {{"id", b.id},
          {"number", b.number},
          {"status", b.status},
          {"customer_id", opt(b.customer_id)},
          {"employee_id", opt(b.employee_id)},
          {"subtotal", b.subtotal},
          {"discount", b.discount},
          {"tax", b.tax},
          {"total", b.total},
          {"payment_method", b.payment_method},
          {"notes", opt(b.notes)},
          {"created_at", time(b.created_at)},
          {"voided_at", b.voided_at ? time(*b.voided_at) : json(nullptr)}};
}

json periods(const pos::Dashboard::Period& p) {
  return {{"today", p.today}, {"week", p.week}, {"month", p.month}, {"all_time", p.all_time}};
}

}  // namespace

json to_json(const pos::Shop& s) {
  return {{"id", s.id},
          {"name", s.name},
          {"currency", s.currency},
          {"timezone", s.timezone},
          {"cashier_discount_limit_bp", s.cashier_discount_limit_bp},
          {"created_at", time(s.created_at)}};
}

json to_json(const pos::User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"role", pos::role_name(u.role)},
          {"shop_id", u.shop_id}};
}

json to_json(const pos::Product& p) {
  return {{"id", p.id},
          {"name", p.name},
          {"sku", p.sku},
          {"barcode", opt(p.barcode)},
          {"category", opt(p.category)},
          {"price", p.price},
          {"cost", p.cost},
          {"stock", p.stock},
          {"low_stock_threshold", p.low_stock_threshold},
          {"active", p.active},
          {"created_at", time(p.created_at)},
          {"updated_at", time(p.updated_at)}};
}

json to_json(const pos::Customer& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"phone", opt(c.phone)},
          {"email", opt(c.email)},
          {"address", opt(c.address)},
          {"notes", opt(c.notes)},
          {"bill_count", c.bill_count},
          {"total_spent", c.total_spent},
          {"created_at", time(c.created_at)},
          {"updated_at", time(c.updated_at)}};
}

json to_json(const pos::Employee& e) {
  return {{"id", e.id},
          {"name", e.name},
          {"phone", opt(e.phone)},
          {"position", opt(e.position)},
          {"username", opt(e.username)},
          {"active", e.active},
          {"created_at", time(e.created_at)},
          {"updated_at", time(e.updated_at)}};
}

json to_json(const pos::Bill& b) {
  json out = bill_summary(b);
  json items = json::array();
  for (const auto& i : b.items) {
    items.push_back({{"product_id", i.product_id},
                     {"name", i.name},
                     {"quantity", i.quantity},
                     {"unit_price", i.unit_price},
                     {"line_total", i.line_total}});
  }
  out["items"] = std::move(items);
  return out;
}

json to_json(const pos::Dashboard& d) {
  json top = json::array();
  for (const auto& t : d.top_products) {
    top.push_back({{"product_id", t.product_id},
                   {"name", t.name},
                   {"quantity", t.quantity},
                   {"revenue", t.revenue}});
  }
  json low = json::array();
  for (const auto& p : d.low_stock) low.push_back(to_json(p));
  json recent = json::array();
  for (const auto& b : d.recent_bills) recent.push_back(bill_summary(b));
  return {{"revenue", periods(d.revenue)},       {"bills", periods(d.bills)},
          {"average_bill", d.average_bill},      {"top_products", std::move(top)},
          {"low_stock", std::move(low)},         {"recent_bills", std::move(recent)},
          {"generated_at", time(d.generated_at)}};
}

json to_json(const pos::AuthResult& a) { return {{"token", a.token}, {"user", to_json(a.user)}}; }

}  // namespace tajir::api
