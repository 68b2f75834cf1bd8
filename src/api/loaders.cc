#include "api/loaders.h"

#include <algorithm>

namespace tajir::api {
namespace {

// `change_seq`: the shop's change the items were read at, for those a sale keeps up to date.
template <typename T>
PageItems page_items(const std::vector<T>& xs, std::optional<int64_t> change_seq) {
  PageItems out;
  out.items.reserve(xs.size());
  for (const auto& x : xs) out.items.push_back({x.id, dump(to_json(x))});
  if (change_seq) out.version = static_cast<uint64_t>(*change_seq);
  return out;
}

template <typename T>
Result<std::pair<int64_t, PageItems>> listed(const Result<pos::Page<T>>& r,
                                             std::optional<int64_t> change_seq = {}) {
  if (!r.ok()) return r.status();
  return std::pair{r->total, page_items(r->items, change_seq)};
}

template <typename T>
Result<PageItems> items(const Result<std::vector<T>>& r, std::optional<int64_t> change_seq = {}) {
  if (!r.ok()) return r.status();
  return page_items(*r, change_seq);
}

}  // namespace

Filler product_page(Context& c, const pos::Principal& p, pos::ProductFilter f,
                    pos::PageRequest page) {
  return [&c, p, f = std::move(f), page]() -> Result<Filled> {
    const pos::CacheMap& map = c.reads.map();
    std::string filters;
    if (f.q) filters += "&q=" + http::percent_encode(*f.q);
    if (f.category) filters += "&category=" + http::percent_encode(*f.category);
    if (f.low_stock) filters += "&low_stock=true";
    if (f.active) filters += *f.active ? "&active=true" : "&active=false";
    return c.reads.page(
        {.shop = p.shop_id,
         .type = "products",
         .page = page.page,
         .per_page = page.per_page,
         .filters = std::move(filters),
         .index_tags = map.product_index(p.shop_id, f),
         .list =
             [&] {
               int64_t seq = 0;
               auto r = c.pos.list_products(p, f, page, &seq);
               return listed(r, seq);
             },
         .by_ids =
             [&](const std::vector<int64_t>& ids) {
               int64_t seq = 0;
               auto r = c.pos.products_by_ids(p, ids, &seq);
               return items(r, seq);
             },
         .item_tags = [&](int64_t id) { return map.product(p.shop_id, id); },
         .page_tags =
             [&](const std::vector<int64_t>& ids) { return map.product_page(p.shop_id, f, ids); },
         .versioned = true});
  };
}

Filler product(Context& c, const pos::Principal& p, int64_t id) {
  return [&c, p, id]() -> Result<Filled> {
    int64_t seq = 0;
    Result<Filled> out = filled(c.pos.product(p, id, &seq), c.reads.map().product(p.shop_id, id));
    if (out.ok()) out->version = cache::Version{static_cast<uint64_t>(seq)};
    return out;
  };
}

Filler customer_page(Context& c, const pos::Principal& p, std::optional<std::string> q,
                     pos::PageRequest page) {
  return [&c, p, q = std::move(q), page]() -> Result<Filled> {
    const pos::CacheMap& map = c.reads.map();
    return c.reads.page(
        {.shop = p.shop_id,
         .type = "customers",
         .page = page.page,
         .per_page = page.per_page,
         .filters = q ? "&q=" + http::percent_encode(*q) : "",
         .index_tags = map.customer_index(p.shop_id, q.has_value()),
         .list = [&] { return listed(c.pos.list_customers(p, q, page)); },
         .by_ids =
             [&](const std::vector<int64_t>& ids) { return items(c.pos.customers_by_ids(p, ids)); },
         .item_tags = [&](int64_t id) { return map.customer(p.shop_id, id); },
         .page_tags =
             [&](const std::vector<int64_t>& ids) {
               return map.customer_page(p.shop_id, q.has_value(), ids);
             }});
  };
}

Filler dashboard(Context& c, const pos::Principal& p) {
  return [&c, p]() -> Result<Filled> {
    auto d = c.pos.dashboard(p);
    if (!d.ok()) return d.status();
    // A cached dashboard ends at the shop's midnight: it never shows yesterday's "today".
    auto ttl = std::chrono::milliseconds(std::max<int64_t>(1, d->valid_until - pos::now_ms()));
    return Filled{dump(to_json(*d)), c.reads.map().dashboard(p.shop_id), ttl, d->valid_until,
                  cache::Version{static_cast<uint64_t>(d->change_seq), dashboard_aside(*d)}};
  };
}

pos::ProductFilter product_filter(Query& q) {
  return {q.text("q"), q.text("category"), q.boolean("low_stock").value_or(false),
          q.boolean("active")};
}

pos::BillFilter bill_filter(Query& q) {
  pos::BillFilter f;
  f.from = q.time("from");
  f.to = q.time("to");
  // A date alone means the shop's midnight, not UTC's (Pos applies the shop's zone).
  f.from_is_date = f.from && pos::is_date(*q.request().query("from"));
  f.to_is_date = f.to && pos::is_date(*q.request().query("to"));
  f.customer_id = q.id("customer_id");
  f.status = q.text("status");
  if (f.status && *f.status != "paid" && *f.status != "void") {
    q.fail(InvalidArgument("status must be paid or void", "status"));
  }
  return f;
}

Filler bill_page(Context& c, const pos::Principal& p, pos::BillFilter f, pos::PageRequest page) {
  return [&c, p, f = std::move(f), page]() -> Result<Filled> {
    // A page that bills and voids keep up to date carries the change it was read at.
    int64_t change_seq = 0;
    const bool maintained = pos::maintainable(f, page);
    auto r = c.pos.list_bills(p, f, page, maintained ? &change_seq : nullptr);
    if (!r.ok()) return r.status();
    Filled out{dump(to_json(*r)), c.reads.map().bill_page(p.shop_id), std::nullopt};
    if (maintained) out.version = cache::Version{static_cast<uint64_t>(change_seq)};
    return out;
  };
}

WarmSummary warm(Context& c, const std::vector<int64_t>& shops,
                 const std::vector<std::string>& types, WarmCause cause) {
  WarmSummary out;
  cache::Cache* engine = c.reads.engine();
  if (engine == nullptr) return out;
  std::vector<cache::WarmItem> items;
  std::vector<std::string> item_types;
  for (int64_t shop : shops) {
    pos::Principal p{0, shop, pos::Role::kOperator, "warm", 0};
    for (const auto& t : types) {
      // The key of the GET with no query: what a till's first read of each asks for.
      const std::string key = ReadCache::key(shop, t, "/api/" + t);
      if (t == "products")
        items.push_back(c.reads.warm_item(key, t, product_page(c, p, {}, {})));
      else if (t == "customers")
        items.push_back(c.reads.warm_item(key, t, customer_page(c, p, {}, {})));
      else if (t == "dashboard")
        items.push_back(c.reads.warm_item(key, t, dashboard(c, p)));
      else
        continue;
      item_types.push_back(t);
    }
  }
  const auto start = std::chrono::steady_clock::now();
  // Warm one type at a time so that the counts per type come out of the engine's report.
  for (const auto& t : types) {
    std::vector<cache::WarmItem> of_type;
    for (size_t i = 0; i < items.size(); ++i) {
      if (item_types[i] == t) of_type.push_back(items[i]);
    }
    cache::WarmReport r = engine->warm(std::move(of_type), c.options.warm_parallelism);
    out.warmed.emplace_back(t, r.loaded + r.present);
    out.total += r.loaded + r.present;
    c.reads.warmed().add(cause, r.loaded);
  }
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return out;
}

}  // namespace tajir::api
