#include "api/maintained.h"

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

}  // namespace

std::optional<Maintenance> maintain(const ReadCache& reads, int64_t shop, pos::SalesChange change) {
  if (reads.map().mode() == pos::InvalidationMode::kCoarse) return std::nullopt;
  const int64_t seq = change.seq;
  auto rewrite = [shop, c = std::move(change)](std::string_view key, std::string_view value,
                                               std::optional<cache::Version> version) {
    const auto n = static_cast<uint64_t>(c.seq);
    if (!version || version->number + 1 < n) return cache::Rewrite{};  // not kept up to date
    if (version->number >= n) return cache::Rewrite{.keep = true};     // read after the change
    auto read = ReadCache::read_of(key);
    http::Request req;
    if (!read || read->shop != std::to_string(shop) || !req.set_target(read->target).ok()) {
      return cache::Rewrite{};
    }
    if (req.path == "/api/dashboard") return dashboard_at(c, value, *version);
    if (req.path == "/api/bills") return bill_page_at(c, req, value);
    return cache::Rewrite{};
  };
  return Maintenance{shop, seq, std::move(rewrite)};
}

}  // namespace tajir::api
