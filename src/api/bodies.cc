#include "api/bodies.h"

#include "api/input.h"

namespace tajir::api {

using http::Request;
using nlohmann::json;

Result<Credentials> credentials_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in.ok()) return in.status();
  auto user = in->text("username", 64), pass = in->text("password", 256, Text::kSecret);
  if (!in->status().ok()) return in->status();
  if (!user) return InvalidArgument("username is required", "username");
  if (!pass) return InvalidArgument("password is required", "password");
  return Credentials{std::move(*user), std::move(*pass)};
}

Result<std::pair<std::string, Credentials>> registration_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in.ok()) return in.status();
  auto shop = in->text("shop_name", 200, Text::kName), user = in->text("username", 64),
       pass = in->text("password", 256, Text::kSecret);
  if (!in->status().ok()) return in->status();
  for (auto [v, name] : {std::pair{&shop, "shop_name"}, std::pair{&user, "username"},
                         std::pair{&pass, "password"}}) {
    if (!*v) return InvalidArgument(std::string(name) + " is required", name);
  }
  return std::pair{std::move(*shop), Credentials{std::move(*user), std::move(*pass)}};
}

Result<pos::ShopInput> shop_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in.ok()) return in.status();
  pos::ShopInput s{in->text("name", 200, Text::kName), in->text("currency", 3),
                   in->text("timezone", 64), in->integer("cashier_discount_limit_bp", 0, 10000)};
  if (!in->status().ok()) return in->status();
  return s;
}

Result<pos::ProductInput> product_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in.ok()) return in.status();
  pos::ProductInput p;
  p.name = in->text("name", 200, Text::kName);
  p.sku = in->text("sku", 64);
  p.barcode = in->nullable_text("barcode", 64);
  p.category = in->nullable_text("category", 100);
  p.price = in->integer("price", 0, kMaxMoney);
  p.cost = in->integer("cost", 0, kMaxMoney);
  p.stock = in->integer("stock", 0, 1'000'000'000);
  p.low_stock_threshold = in->integer("low_stock_threshold", 0, 1'000'000'000);
  p.active = in->boolean("active");
  if (!in->status().ok()) return in->status();
  return p;
}

Result<pos::CustomerInput> customer_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in.ok()) return in.status();
  pos::CustomerInput c;
  c.name = in->text("name", 200, Text::kName);
  c.phone = in->nullable_text("phone", 50);
  c.email = in->nullable_text("email", 200);
  c.address = in->nullable_text("address", 500, Text::kLines);
  c.notes = in->nullable_text("notes", 2000, Text::kLines);
  if (!in->status().ok()) return in->status();
  return c;
}

Result<pos::EmployeeInput> employee_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in.ok()) return in.status();
  pos::EmployeeInput e;
  e.name = in->text("name", 200, Text::kName);
  e.phone = in->nullable_text("phone", 50);
  e.position = in->nullable_text("position", 100);
  e.username = in->text("username", 64);
  e.password = in->text("password", 256, Text::kSecret);
  e.active = in->boolean("active");
  if (!in->status().ok()) return in->status();
  return e;
}

Result<pos::BillInput> bill_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in.ok()) return in.status();
  pos::BillInput b;
  const json* items = in->member("items");
  if (items == nullptr) return InvalidArgument("items is required", "items");
  if (!items->is_array()) return InvalidArgument("items must be an array", "items");
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    const std::string at = "items[" + std::to_string(i) + "]";
    if (!item.is_object()) return InvalidArgument(at + " must be an object", at);
    pos::BillInput::Item parsed;
    for (const char* name : {"product_id", "quantity"}) {
      auto it = item.find(name);
      if (it == item.end())
        return InvalidArgument(at + "." + name + " is required", at + "." + name);
      auto n = integer_value(*it, at + "." + name, 1, INT64_MAX);
      if (!n.ok()) return n.status();
      (std::string_view(name) == "product_id" ? parsed.product_id : parsed.quantity) = *n;
    }
    if (auto it = item.find("unit_price"); it != item.end() && !it->is_null()) {
      auto n = integer_value(*it, at + ".unit_price", 0, kMaxMoney);
      if (!n.ok()) return n.status();
      parsed.unit_price = *n;
    }
    b.items.push_back(parsed);
  }
  for (auto [name, target] :
       {std::pair{"customer_id", &b.customer_id}, std::pair{"employee_id", &b.employee_id}}) {
    const json* v = in->member(name);
    if (v != nullptr && !v->is_null()) {
      auto n = integer_value(*v, name, 1, INT64_MAX);
      if (!n.ok()) return n.status();
      *target = *n;
    }
  }
  // Optional fields may also be sent as null, meaning absent.
  auto present = [&](const char* name) {
    const json* v = in->member(name);
    return v != nullptr && !v->is_null();
  };
  if (present("discount")) b.discount = in->integer("discount", 0, kMaxMoney).value_or(0);
  if (present("tax_rate_bp")) b.tax_rate_bp = in->integer("tax_rate_bp", 0, 10000).value_or(0);
  auto method = in->text("payment_method", 20);
  b.notes = in->nullable_text("notes", 2000, Text::kLines).value_or(std::nullopt);
  if (!in->status().ok()) return in->status();
  if (!method) return InvalidArgument("payment_method is required", "payment_method");
  b.payment_method = *method;
  return b;
}

}  // namespace tajir::api
