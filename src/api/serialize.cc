#include "api/serialize.h"

#include <stdexcept>

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

namespace {

// What to_json wrote, read back; a missing field or a wrong type throws (json::exception).
std::optional<std::string> opt_text(const json& j) {
  return j.is_null() ? std::nullopt : std::optional(j.get<std::string>());
}
std::optional<int64_t> opt_int(const json& j) {
  return j.is_null() ? std::nullopt : std::optional(j.get<int64_t>());
}
int64_t time_of(const json& j) {
  auto t = pos::parse_time(j.get<std::string>());
  if (!t) throw std::invalid_argument("not a time");
  return *t;
}

pos::Product product_of(const json& j) {
  pos::Product p;
  p.id = j.at("id").get<int64_t>();
  p.name = j.at("name").get<std::string>();
  p.sku = j.at("sku").get<std::string>();
  p.barcode = opt_text(j.at("barcode"));
  p.category = opt_text(j.at("category"));
  p.price = j.at("price").get<int64_t>();
  p.cost = j.at("cost").get<int64_t>();
  p.stock = j.at("stock").get<int64_t>();
  p.low_stock_threshold = j.at("low_stock_threshold").get<int64_t>();
  p.active = j.at("active").get<bool>();
  p.created_at = time_of(j.at("created_at"));
  p.updated_at = time_of(j.at("updated_at"));
  return p;
}

pos::Bill bill_of(const json& j) {
  pos::Bill b;
  b.id = j.at("id").get<int64_t>();
  b.number = j.at("number").get<int64_t>();
  b.status = j.at("status").get<std::string>();
  b.customer_id = opt_int(j.at("customer_id"));
  b.employee_id = opt_int(j.at("employee_id"));
  b.subtotal = j.at("subtotal").get<int64_t>();
  b.discount = j.at("discount").get<int64_t>();
  b.tax = j.at("tax").get<int64_t>();
  b.total = j.at("total").get<int64_t>();
  b.payment_method = j.at("payment_method").get<std::string>();
  b.notes = opt_text(j.at("notes"));
  b.created_at = time_of(j.at("created_at"));
  if (!j.at("voided_at").is_null()) b.voided_at = time_of(j.at("voided_at"));
  if (j.contains("items")) {
    for (const json& i : j.at("items")) {
      b.items.push_back({i.at("product_id").get<int64_t>(), i.at("name").get<std::string>(),
                         i.at("quantity").get<int64_t>(), i.at("unit_price").get<int64_t>(),
                         i.at("line_total").get<int64_t>()});
    }
  }
  return b;
}

pos::Dashboard::Period period_of(const json& j) {
  return {j.at("today").get<int64_t>(), j.at("week").get<int64_t>(), j.at("month").get<int64_t>(),
          j.at("all_time").get<int64_t>()};
}

template <typename T, typename Read>
std::optional<T> read_body(std::string_view body, Read read) {
  try {
    return read(json::parse(body));
  } catch (const std::exception&) {  // json::exception, or a time that is not one
    return std::nullopt;
  }
}

}  // namespace

std::optional<pos::Dashboard> dashboard_from_json(std::string_view body) {
  return read_body<pos::Dashboard>(body, [](const json& j) {
    pos::Dashboard d;
    d.revenue = period_of(j.at("revenue"));
    d.bills = period_of(j.at("bills"));
    d.average_bill = j.at("average_bill").get<int64_t>();
    for (const json& t : j.at("top_products")) {
      d.top_products.push_back({t.at("product_id").get<int64_t>(), t.at("name").get<std::string>(),
                                t.at("quantity").get<int64_t>(), t.at("revenue").get<int64_t>()});
    }
    for (const json& p : j.at("low_stock")) d.low_stock.push_back(product_of(p));
    for (const json& b : j.at("recent_bills")) d.recent_bills.push_back(bill_of(b));
    d.generated_at = time_of(j.at("generated_at"));
    return d;
  });
}

std::string dashboard_aside(const pos::Dashboard& d) {
  json more = json::array();
  for (const auto& t : d.top_more) more.push_back({t.product_id, t.name, t.quantity, t.revenue});
  json gains = json::array();
  for (const auto& [id, g] : d.top_gains) gains.push_back({id, g});
  return json{{"ceiling", d.top_ceiling}, {"gains", std::move(gains)}, {"more", std::move(more)}}
      .dump();
}

bool read_dashboard_aside(std::string_view aside, pos::Dashboard& d) {
  auto read = read_body<bool>(aside, [&](const json& j) {
    d.top_ceiling = j.at("ceiling").get<int64_t>();
    d.top_more.clear();
    d.top_gains.clear();
    for (const json& g : j.at("gains")) {
      d.top_gains.emplace_back(g.at(0).get<int64_t>(), g.at(1).get<int64_t>());
    }
    for (const json& t : j.at("more")) {
      d.top_more.push_back({t.at(0).get<int64_t>(), t.at(1).get<std::string>(),
                            t.at(2).get<int64_t>(), t.at(3).get<int64_t>()});
    }
    return true;
  });
  return read.value_or(false);
}

std::optional<pos::Page<pos::Bill>> bill_page_from_json(std::string_view body) {
  return read_body<pos::Page<pos::Bill>>(body, [](const json& j) {
    pos::Page<pos::Bill> page;
    for (const json& b : j.at("items")) page.items.push_back(bill_of(b));
    page.page = j.at("page").get<int64_t>();
    page.per_page = j.at("per_page").get<int64_t>();
    page.total = j.at("total").get<int64_t>();
    return page;
  });
}

}  // namespace tajir::api
