// CacheMap: the one place that decides which tags a cached read carries and which tags a write
// invalidates. Nothing else in tajir names a tag.
//
// Precise mode (the default) drops exactly what a write changed:
//   - a product list page carries its shop's list tag, one tag per filter it uses (q, category,
//     low_stock, active) and the tag of every product on it. The API builds it from the page's
//     index (ids and total: the list and filter tags only, so a sale does not drop it) and the
//     products' own entries, so after a sale only the products sold are loaded again. Changing
//     product 7 drops its detail, the pages that show it, the filtered pages whose filter reads a
//     field that changed (a rename may move it into a search, a sale into the low-stock list), and
//     the dashboard only if product 7 is, or was, in its low-stock list. Creating or deleting a
//     product drops every list page of the shop (ids shift across pages).
//   - a bill drops the shop's bill lists and dashboard, its customer (detail and the pages that
//     show it), and every product whose stock it moved (detail, pages that show it, and the
//     low-stock filtered pages). The dashboard and the first pages of bills it finds are kept
//     up to date instead, where its change can be applied to them (api/maintained.h).
//   - customers and employees: as products, with the q filter for customers (customer pages are
//     built from an index and the customers' entries too).
//   - the shop's settings: its own read, and the dashboard (the time zone moves its days, and
//     those of the bill lists filtered by date).
//   - sessions: logging out or losing an employee drops that user's cached sessions.
// Coarse mode (the original design, kept to be measured against) drops every cached read of
// the written type, plus the dashboard and, for bills, products and customers, of the shop.
//
// Every entry also carries `type:T` and `type:SHOP:T` and `shop:SHOP`, so the cache endpoints
// can clear by type, per shop or everywhere.
//
// Thread safety: immutable after construction; all methods are const.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pos/types.h"

namespace tajir::pos {

enum class InvalidationMode { kPrecise, kCoarse };

// The value types: what statistics are kept per, what /api/cache/clear accepts, and (those
// marked warmable: the reads every till makes first) what /api/cache/warm fills. The one list.
struct CacheType {
  std::string_view name;
  bool warmable;
};
inline constexpr CacheType kCacheTypes[] = {
    {"products", true},  {"customers", true}, {"employees", false}, {"bills", false},
    {"dashboard", true}, {"shop", false},     {"sessions", false},
};
bool is_cache_type(std::string_view type);
bool is_warmable_type(std::string_view type);
std::vector<std::string> cache_types();     // every name, in the list's order
std::vector<std::string> warmable_types();  // the warmable ones

class CacheMap {
 public:
  explicit CacheMap(InvalidationMode mode = InvalidationMode::kPrecise) : mode_(mode) {}
  InvalidationMode mode() const { return mode_; }

  // --- what reads carry ---
  // Which products a page lists, and its total: only membership and the filters' fields move it.
  std::vector<std::string> product_index(int64_t shop, const ProductFilter& f) const;
  // The page itself: its index, and every product on it.
  std::vector<std::string> product_page(int64_t shop, const ProductFilter& f,
                                        const std::vector<int64_t>& ids) const;
  std::vector<std::string> product(int64_t shop, int64_t id) const;
  std::vector<std::string> customer_index(int64_t shop, bool searched) const;
  std::vector<std::string> customer_page(int64_t shop, bool searched,
                                         const std::vector<int64_t>& ids) const;
  std::vector<std::string> customer(int64_t shop, int64_t id) const;
  std::vector<std::string> employee_page(int64_t shop, const std::vector<int64_t>& ids) const;
  std::vector<std::string> employee(int64_t shop, int64_t id) const;
  std::vector<std::string> bill_page(int64_t shop) const;
  std::vector<std::string> bill(int64_t shop, int64_t id) const;
  // Not its low-stock products' tags: a write of a product that is or was low on stock drops the
  // dashboard by its own tag (product_written), and a bill's or a void's keeps it up to date.
  std::vector<std::string> dashboard(int64_t shop) const;
  std::vector<std::string> shop(int64_t shop) const;
  std::vector<std::string> session(int64_t shop, int64_t user_id) const;

  // --- what writes drop ---
  // before/after: the product before and after the write (null when created / deleted).
  std::vector<std::string> product_written(int64_t shop, const Product* before,
                                           const Product* after) const;
  std::vector<std::string> customer_written(int64_t shop, int64_t id, bool created_or_deleted,
                                            bool searchable_fields_changed) const;
  // logins_changed: the employee was deleted or (de)activated, so its sessions end.
  std::vector<std::string> employee_written(int64_t shop, int64_t id, bool created_or_deleted,
                                            bool logins_changed) const;
  // A bill created or voided.
  std::vector<std::string> bill_written(int64_t shop, const Bill& bill) const;
  // timezone_changed: the days of date-filtered bill lists moved too.
  std::vector<std::string> shop_written(int64_t shop, bool timezone_changed) const;
  std::vector<std::string> user_sessions_ended(int64_t user_id) const;

  // --- management ---
  // Every entry of a type ("products"), in one shop or (shop 0) in all.
  static std::string type_tag(std::string_view type, int64_t shop = 0);
  static std::string shop_tag(int64_t shop);

  // --- tiers that keep each shop apart (Redis: a shop's keys share one Cluster slot) ---
  // The shop a tag belongs to; nullopt for a tag of every shop (type:T) or of a user
  // (user:U, which only sessions carry, and sessions stay in the local tier).
  static std::optional<int64_t> shop_of(std::string_view tag);
  // What invalidating `tag` drops in each of `shops`' parts: a shop's tag in its shop; a tag
  // of every shop (type:T) as each shop's own (type:T:S, which every entry carrying type:T
  // also carries); a user's tag nowhere.
  static std::vector<std::pair<int64_t, std::string>> per_shop(std::string_view tag,
                                                               const std::vector<int64_t>& shops);

 private:
  std::vector<std::string> base(int64_t shop, std::string_view type) const;
  InvalidationMode mode_;
};

}  // namespace tajir::pos
