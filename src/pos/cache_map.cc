#include "pos/cache_map.h"

#include <algorithm>
#include <charconv>

namespace tajir::pos {
namespace {

std::string tag(std::string_view kind, int64_t shop) {
  return std::string(kind) + ":" + std::to_string(shop);
}
std::string tag(std::string_view kind, int64_t shop, int64_t id) {
  return tag(kind, shop) + ":" + std::to_string(id);
}

bool low_stock(const Product* p) {
  return p != nullptr && p->active && p->stock <= p->low_stock_threshold;
}

void append(std::vector<std::string>& out, std::string_view kind, int64_t shop,
            const std::vector<int64_t>& ids) {
  for (int64_t id : ids) out.push_back(tag(kind, shop, id));
}

}  // namespace

bool is_cache_type(std::string_view type) {
  return std::any_of(std::begin(kCacheTypes), std::end(kCacheTypes),
                     [&](const CacheType& t) { return t.name == type; });
}

bool is_warmable_type(std::string_view type) {
  return std::any_of(std::begin(kCacheTypes), std::end(kCacheTypes),
                     [&](const CacheType& t) { return t.warmable && t.name == type; });
}

std::vector<std::string> cache_types() {
  std::vector<std::string> out;
  for (const CacheType& t : kCacheTypes) out.emplace_back(t.name);
  return out;
}

std::vector<std::string> warmable_types() {
  std::vector<std::string> out;
  for (const CacheType& t : kCacheTypes) {
    if (t.warmable) out.emplace_back(t.name);
  }
  return out;
}

std::string CacheMap::type_tag(std::string_view type, int64_t shop) {
  return shop == 0 ? "type:" + std::string(type) : tag("type:" + std::string(type), shop);
}

std::string CacheMap::shop_tag(int64_t shop) { return tag("shop", shop); }

std::vector<std::string> CacheMap::base(int64_t shop, std::string_view type) const {
  return {type_tag(type), type_tag(type, shop), shop_tag(shop)};
}

std::optional<int64_t> CacheMap::shop_of(std::string_view tag) {
  // Tags are "kind:SHOP", "kind:SHOP:ID" and "type:T:SHOP"; "type:T" and "user:U" are no shop's.
  std::string_view digits;
  if (tag.starts_with("type:")) {
    const size_t colon = tag.find(':', 5);
    if (colon == std::string_view::npos) return std::nullopt;
    digits = tag.substr(colon + 1);
  } else if (tag.starts_with("user:")) {
    return std::nullopt;
  } else {
    const size_t colon = tag.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    digits = tag.substr(colon + 1, tag.find(':', colon + 1) - colon - 1);
  }
  int64_t shop = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), shop);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size())
    return std::nullopt;
  return shop;
}

std::vector<std::pair<int64_t, std::string>> CacheMap::per_shop(std::string_view t,
                                                                const std::vector<int64_t>& shops) {
  if (auto shop = shop_of(t)) return {{*shop, std::string(t)}};
  std::vector<std::pair<int64_t, std::string>> out;
  if (!t.starts_with("type:")) return out;  // a user's: sessions only
  for (int64_t s : shops) out.emplace_back(s, tag(t, s));
  return out;
}

// --- reads ---------------------------------------------------------------------------------

std::vector<std::string> CacheMap::product_index(int64_t shop, const ProductFilter& f) const {
  auto t = base(shop, "products");
  t.push_back(tag("plist", shop));
  if (f.q) t.push_back(tag("plist-q", shop));
  if (f.category) t.push_back(tag("plist-category", shop));
  if (f.low_stock) t.push_back(tag("plist-stock", shop));
  if (f.active) t.push_back(tag("plist-active", shop));
  return t;
}

std::vector<std::string> CacheMap::product_page(int64_t shop, const ProductFilter& f,
                                                const std::vector<int64_t>& ids) const {
  auto t = product_index(shop, f);
  append(t, "product", shop, ids);
  return t;
}

std::vector<std::string> CacheMap::product(int64_t shop, int64_t id) const {
  auto t = base(shop, "products");
  t.push_back(tag("product", shop, id));
  return t;
}

std::vector<std::string> CacheMap::customer_index(int64_t shop, bool searched) const {
  auto t = base(shop, "customers");
  t.push_back(tag("clist", shop));
  if (searched) t.push_back(tag("clist-q", shop));
  return t;
}

std::vector<std::string> CacheMap::customer_page(int64_t shop, bool searched,
                                                 const std::vector<int64_t>& ids) const {
  auto t = customer_index(shop, searched);
  append(t, "customer", shop, ids);
  return t;
}

std::vector<std::string> CacheMap::customer(int64_t shop, int64_t id) const {
  auto t = base(shop, "customers");
  t.push_back(tag("customer", shop, id));
  return t;
}

std::vector<std::string> CacheMap::employee_page(int64_t shop,
                                                 const std::vector<int64_t>& ids) const {
  auto t = base(shop, "employees");
  t.push_back(tag("elist", shop));
  append(t, "employee", shop, ids);
  return t;
}

std::vector<std::string> CacheMap::employee(int64_t shop, int64_t id) const {
  auto t = base(shop, "employees");
  t.push_back(tag("employee", shop, id));
  return t;
}

std::vector<std::string> CacheMap::bill_page(int64_t shop) const {
  auto t = base(shop, "bills");
  t.push_back(tag("blist", shop));
  return t;
}

std::vector<std::string> CacheMap::bill(int64_t shop, int64_t id) const {
  auto t = base(shop, "bills");
  t.push_back(tag("bill", shop, id));
  return t;
}

std::vector<std::string> CacheMap::dashboard(int64_t shop) const {
  auto t = base(shop, "dashboard");
  t.push_back(tag("dashboard", shop));
  return t;
}

std::vector<std::string> CacheMap::shop(int64_t shop) const {
  auto t = base(shop, "shop");
  t.push_back(tag("shopinfo", shop));
  return t;
}

std::vector<std::string> CacheMap::session(int64_t shop, int64_t user_id) const {
  auto t = base(shop, "sessions");
  t.push_back("user:" + std::to_string(user_id));
  return t;
}

// --- writes --------------------------------------------------------------------------------

std::vector<std::string> CacheMap::product_written(int64_t shop, const Product* before,
                                                   const Product* after) const {
  if (mode_ == InvalidationMode::kCoarse)
    return {type_tag("products", shop), type_tag("dashboard", shop)};
  const Product* any = after != nullptr ? after : before;
  std::vector<std::string> t{tag("product", shop, any->id)};
  if (before == nullptr || after == nullptr) {
    t.push_back(tag("plist", shop));  // membership of every page shifts
  } else {
    if (before->name != after->name || before->sku != after->sku ||
        before->barcode != after->barcode) {
      t.push_back(tag("plist-q", shop));
    }
    if (before->category != after->category) t.push_back(tag("plist-category", shop));
    if (before->stock != after->stock ||
        before->low_stock_threshold != after->low_stock_threshold ||
        before->active != after->active) {
      t.push_back(tag("plist-stock", shop));
    }
    if (before->active != after->active) t.push_back(tag("plist-active", shop));
  }
  // The dashboard lists low-stock products: it changes if this one is, or was, among them.
  if (low_stock(before) || low_stock(after)) t.push_back(tag("dashboard", shop));
  return t;
}

std::vector<std::string> CacheMap::customer_written(int64_t shop, int64_t id,
                                                    bool created_or_deleted,
                                                    bool searchable_fields_changed) const {
  if (mode_ == InvalidationMode::kCoarse) return {type_tag("customers", shop)};
  std::vector<std::string> t{tag("customer", shop, id)};
  if (created_or_deleted) t.push_back(tag("clist", shop));
  if (searchable_fields_changed) t.push_back(tag("clist-q", shop));
  return t;
}

std::vector<std::string> CacheMap::employee_written(int64_t shop, int64_t id,
                                                    bool created_or_deleted,
                                                    bool logins_changed) const {
  std::vector<std::string> t;
  if (mode_ == InvalidationMode::kCoarse) {
    t.push_back(type_tag("employees", shop));
  } else {
    t.push_back(tag("employee", shop, id));
    if (created_or_deleted) t.push_back(tag("elist", shop));
  }
  // A cashier's cached sessions must end with its login; this is rare, so every session of
  // the shop goes (they are reloaded from the database on their next request).
  if (logins_changed) t.push_back(type_tag("sessions", shop));
  return t;
}

std::vector<std::string> CacheMap::bill_written(int64_t shop, const Bill& b) const {
  if (mode_ == InvalidationMode::kCoarse) {
    return {type_tag("bills", shop), type_tag("dashboard", shop), type_tag("products", shop),
            type_tag("customers", shop)};
  }
  std::vector<std::string> t{tag("blist", shop), tag("dashboard", shop), tag("plist-stock", shop)};
  // A new bill has no cached read of its own yet (the API stores its detail as it answers); a
  // voided one does.
  if (b.status == "void") t.push_back(tag("bill", shop, b.id));
  if (b.customer_id) t.push_back(tag("customer", shop, *b.customer_id));
  for (const auto& item : b.items) t.push_back(tag("product", shop, item.product_id));
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  return t;
}

std::vector<std::string> CacheMap::shop_written(int64_t shop, bool timezone_changed) const {
  std::vector<std::string> t =
      mode_ == InvalidationMode::kCoarse
          ? std::vector<std::string>{type_tag("shop", shop), type_tag("dashboard", shop)}
          : std::vector<std::string>{tag("shopinfo", shop), tag("dashboard", shop)};
  // A date-only bill filter means the shop's midnight: a new time zone moves what it selects.
  if (timezone_changed) t.push_back(type_tag("bills", shop));
  return t;
}

std::vector<std::string> CacheMap::user_sessions_ended(int64_t user_id) const {
  return {"user:" + std::to_string(user_id)};
}

}  // namespace tajir::pos
