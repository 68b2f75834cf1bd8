#include "api/maintained.h"

#include <charconv>

#include "api/loaders.h"
#include "api/routes.h"
#include "api/serialize.h"

namespace tajir::api {
namespace {

// The cached bytes of a read, read back: only if serialising them again gives the same bytes
// (a field to_json writes that the reader does not know would otherwise be lost).
template <typename T, typename Read>
std::optional<T> read_back(std::string_view bytes, Read read) {
  std::optional<T> out = read(bytes);
  if (!out || dump(to_json(*out)) != bytes) return std::nullopt;
  return out;
}

// A rewrite that keeps the entry with `bytes` at change `c`, and `aside` (cache::Version).
cache::Rewrite kept(const pos::SalesChange& c, std::string bytes, std::string aside = {}) {
  return {.keep = true,
          .value = std::move(bytes),
          .version = cache::Version{static_cast<uint64_t>(c.seq), std::move(aside)}};
}

// What the dashboard's JSON does not show (the products below the top five) is in its aside.
cache::Rewrite dashboard_at(const pos::SalesChange& c, std::string_view bytes,
                            const cache::Version& version) {
  auto d = read_back<pos::Dashboard>(bytes, dashboard_from_json);
  if (!d || pos::now_ms() - d->generated_at >= kMaxDashboardAgeMs) return {};
  if (!read_dashboard_aside(version.aside, *d) || !pos::apply_change(c, *d)) return {};
  return kept(c, dump(to_json(*d)), dashboard_aside(*d));
}

// The key's query is what GET /api/bills read (ReadCache::key): read again, it gives the same
// filter and page.
cache::Rewrite bill_page_at(const pos::SalesChange& c, const http::Request& req,
                            std::string_view bytes) {
  Query q(req);
  const pos::PageRequest request = page_of(q);
  const pos::BillFilter f = bill_filter(q);
  if (!q.status().ok() || !pos::maintainable(f, request)) return {};
  auto page = read_back<pos::Page<pos::Bill>>(bytes, bill_page_from_json);
  if (!page || page->page != request.page || page->per_page != request.per_page) return {};
  if (!pos::apply_change(c, f, *page)) return {};
  return kept(c, dump(to_json(*page)));
}

// The product as the change left it; null when the change did not touch it.
const pos::Product* touched(const pos::SalesChange& c, int64_t id) {
  for (const pos::Product& p : c.products) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

// GET /api/products/{id}: the change's row of it is what the same read gives at the change.
cache::Rewrite product_at(const pos::SalesChange& c, std::string_view id_text) {
  int64_t id = 0;
  const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || end != id_text.data() + id_text.size()) return {};
  const pos::Product* p = touched(c, id);
  if (p == nullptr) return {};
  return kept(c, dump(to_json(*p)));
}

// A page of GET /api/products: a sale moves only stock (and updated_at), which selects no page
// but a low_stock one and orders none, so the page's products the change touched are replaced
// by its rows of them.
cache::Rewrite product_page_at(const pos::SalesChange& c, const http::Request& req,
                               std::string_view bytes) {
  Query q(req);
  (void)page_of(q);
  const pos::ProductFilter f = product_filter(q);
  if (!q.status().ok() || f.low_stock) return {};
  nlohmann::json page = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (page.is_discarded() || !page.contains("items") || !page["items"].is_array() ||
      dump(page) != bytes) {
    return {};
  }
  for (nlohmann::json& item : page["items"]) {
    if (!item.is_object() || !item.contains("id") || !item["id"].is_number_integer()) return {};
    if (const pos::Product* p = touched(c, item["id"].get<int64_t>())) item = to_json(*p);
  }
  return kept(c, dump(page));
}

}  // namespace

std::optional<Maintenance> maintain(const ReadCache& reads, int64_t shop, pos::SalesChange change) {
  if (reads.map().mode() == pos::InvalidationMode::kCoarse) return std::nullopt;
  const int64_t seq = change.seq;
  auto change_ptr = std::make_shared<const pos::SalesChange>(std::move(change));
  auto rewriter = [shop, change_ptr](bool in_order) -> cache::Rewriter {
    return [shop, in_order, change_ptr](std::string_view key, std::string_view value,
                                        std::optional<cache::Version> version) {
      const pos::SalesChange& c = *change_ptr;
      const auto n = static_cast<uint64_t>(c.seq);
      if (!version) return cache::Rewrite{};                          // not kept up to date
      if (version->number >= n) return cache::Rewrite{.keep = true};  // read after the change
      auto read = ReadCache::read_of(key);
      http::Request req;
      if (!read || read->shop != std::to_string(shop) || !req.set_target(read->target).ok()) {
        return cache::Rewrite{};
      }
      // One product: the change's row of it is the newest, whatever was read before.
      static constexpr std::string_view kProduct = "/api/products/";
      if (req.path.starts_with(kProduct)) return product_at(c, req.path.substr(kProduct.size()));
      // What changes between the read and this one that did not touch it leave as it was.
      const bool untouched_since = version->number + 1 == n || in_order;
      if (req.path == "/api/products" && untouched_since) return product_page_at(c, req, value);
      if (version->number + 1 != n) return cache::Rewrite{};  // a change between is missing
      if (req.path == "/api/dashboard") return dashboard_at(c, value, *version);
      if (req.path == "/api/bills") return bill_page_at(c, req, value);
      return cache::Rewrite{};
    };
  };
  return Maintenance{shop, seq, std::move(rewriter)};
}

}  // namespace tajir::api
