// Each endpoint's JSON validation (api/bodies.h) on arbitrary bodies: it never crashes, and a
// body it accepts is sane: every text is valid UTF-8 within its field's limit (it serialises
// with nlohmann's strict UTF-8 check), every number within its range, and the accepted input,
// written back as JSON and read again, is read the same (nothing depends on how it was spelt).
//
// Input: a byte picks the body reader, the rest is the body.
#include "api/bodies.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "api/input.h"
#include "fuzz/fuzz.h"
#include "pos/money.h"

using namespace tajir;
using nlohmann::json;

namespace {

// Writes an optional field when present; a present-but-null nullable one as null.
template <typename T>
void put(json& j, const char* name, const std::optional<T>& v) {
  if (v) j[name] = *v;
}
template <typename T>
void put(json& j, const char* name, const std::optional<std::optional<T>>& v) {
  if (v) j[name] = *v ? json(**v) : json(nullptr);
}

void check_text(const std::optional<std::string>& s, size_t max, const char* field) {
  if (s) FUZZ_CHECK(s->size() <= max, "%s: %zu bytes", field, s->size());
}
void check_text(const std::optional<std::optional<std::string>>& s, size_t max, const char* field) {
  if (s && *s) FUZZ_CHECK((*s)->size() <= max, "%s: %zu bytes", field, (*s)->size());
}
void check_int(const std::optional<int64_t>& v, int64_t lo, int64_t hi, const char* field) {
  if (v) FUZZ_CHECK(*v >= lo && *v <= hi, "%s: %lld", field, static_cast<long long>(*v));
}

json written(const api::Credentials& c) {
  return {{"username", c.username}, {"password", c.password}};
}
json written(const std::pair<std::string, api::Credentials>& r) {
  json j = written(r.second);
  j["shop_name"] = r.first;
  return j;
}
// An object of the optional fields given as name, value, name, value...
json fields() { return json::object(); }
template <typename T, typename... Rest>
json fields(const char* name, const T& value, const Rest&... rest) {
  json j = fields(rest...);
  put(j, name, value);
  return j;
}

json written(const pos::ShopInput& s) {
  return fields("name", s.name, "currency", s.currency, "timezone", s.timezone,
                "cashier_discount_limit_bp", s.cashier_discount_limit_bp);
}
json written(const pos::ProductInput& p) {
  return fields("name", p.name, "sku", p.sku, "barcode", p.barcode, "category", p.category, "price",
                p.price, "cost", p.cost, "stock", p.stock, "low_stock_threshold",
                p.low_stock_threshold, "active", p.active);
}
json written(const pos::CustomerInput& c) {
  return fields("name", c.name, "phone", c.phone, "email", c.email, "address", c.address, "notes",
                c.notes);
}
json written(const pos::EmployeeInput& e) {
  return fields("name", e.name, "phone", e.phone, "position", e.position, "username", e.username,
                "password", e.password, "active", e.active);
}
json written(const pos::BillInput& b) {
  json items = json::array();
  for (const auto& i : b.items) {
    json item = {{"product_id", i.product_id}, {"quantity", i.quantity}};
    put(item, "unit_price", i.unit_price);
    items.push_back(item);
  }
  json j = {{"items", items},
            {"discount", b.discount},
            {"tax_rate_bp", b.tax_rate_bp},
            {"payment_method", b.payment_method}};
  put(j, "customer_id", b.customer_id);
  put(j, "employee_id", b.employee_id);
  put(j, "notes", b.notes);
  return j;
}

void check(const api::Credentials& c) {
  check_text(std::optional(c.username), 64, "username");
  check_text(std::optional(c.password), 256, "password");
}
void check(const std::pair<std::string, api::Credentials>& r) {
  check(r.second);
  check_text(std::optional(r.first), 200, "shop_name");
}
void check(const pos::ShopInput& s) {
  check_text(s.name, 200, "name");
  check_text(s.currency, 3, "currency");
  check_text(s.timezone, 64, "timezone");
  check_int(s.cashier_discount_limit_bp, 0, 10000, "cashier_discount_limit_bp");
}
void check(const pos::ProductInput& p) {
  check_text(p.name, 200, "name");
  check_text(p.sku, 64, "sku");
  check_text(p.barcode, 64, "barcode");
  check_text(p.category, 100, "category");
  check_int(p.price, 0, pos::kMaxMoney, "price");
  check_int(p.cost, 0, pos::kMaxMoney, "cost");
  check_int(p.stock, 0, 1'000'000'000, "stock");
  check_int(p.low_stock_threshold, 0, 1'000'000'000, "low_stock_threshold");
}
// Each text within its limit, given as name, value, limit, name, value, limit...
void check_texts() {}
template <typename T, typename... Rest>
void check_texts(const char* name, const T& value, size_t max, const Rest&... rest) {
  check_text(value, max, name);
  check_texts(rest...);
}

void check(const pos::CustomerInput& c) {
  check_texts("name", c.name, 200, "phone", c.phone, 50, "email", c.email, 200, "address",
              c.address, 500, "notes", c.notes, 2000);
}
void check(const pos::EmployeeInput& e) {
  check_texts("name", e.name, 200, "phone", e.phone, 50, "position", e.position, 100, "username",
              e.username, 64, "password", e.password, 256);
}
void check(const pos::BillInput& b) {
  for (const auto& i : b.items) {
    FUZZ_CHECK(i.product_id >= 1 && i.quantity >= 1, "item ids and quantities are positive");
    check_int(i.unit_price, 0, pos::kMaxMoney, "unit_price");
  }
  check_int(b.customer_id, 1, INT64_MAX, "customer_id");
  check_int(b.employee_id, 1, INT64_MAX, "employee_id");
  check_int(std::optional(b.discount), 0, pos::kMaxMoney, "discount");
  check_int(std::optional(b.tax_rate_bp), 0, 10000, "tax_rate_bp");
  check_text(std::optional(b.payment_method), 20, "payment_method");
  check_text(b.notes, 2000, "notes");
}

template <typename Parse>
void run(Parse parse, std::string body) {
  http::Request req;
  req.body = std::move(body);
  auto first = parse(req);
  if (!first.ok()) {
    FUZZ_CHECK(first.status().code() == StatusCode::kInvalidArgument, "a refusal is a 400: %s",
               first.status().message().c_str());
    return;
  }
  check(*first);
  std::string again;
  try {
    again = written(*first).dump();  // strict: throws on invalid UTF-8
  } catch (const json::exception& e) {
    FUZZ_CHECK(false, "an accepted body does not serialise: %s", e.what());
  }
  req.body = again;
  auto second = parse(req);
  FUZZ_CHECK(second.ok(), "the accepted input written back is refused: %s (%s)",
             second.status().message().c_str(), again.c_str());
  FUZZ_CHECK(written(*second).dump() == again, "read back differently: %s", again.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 7) {
    case 0:
      return run(api::credentials_input, std::move(body)), 0;
    case 1:
      return run(api::registration_input, std::move(body)), 0;
    case 2:
      return run(api::shop_input, std::move(body)), 0;
    case 3:
      return run(api::product_input, std::move(body)), 0;
    case 4:
      return run(api::customer_input, std::move(body)), 0;
    case 5:
      return run(api::employee_input, std::move(body)), 0;
    default:
      return run(api::bill_input, std::move(body)), 0;
  }
}
