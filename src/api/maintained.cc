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

std::optional<std::string> dashboard_at(const pos::SalesChange& c, std::string_view bytes) {
  auto d = read_back<pos::Dashboard>(bytes, dashboard_from_json);
  if (!d || pos::now_ms() - d->generated_at >= kMaxDashboardAgeMs) return std::nullopt;
  if (!pos::apply_change(c, *d)) return std::nullopt;
  return dump(to_json(*d));
}

// The key's query is what GET /api/bills read (ReadCache::key): read again, it gives the same
// filter and page.
std::optional<std::string> bill_page_at(const pos::SalesChange& c, const http::Request& req,
                                        std::string_view bytes) {
  Query q(req);
  const pos::PageRequest request = page_of(q);
  const pos::BillFilter f = bill_filter(q);
  if (!q.status().ok() || !pos::maintainable(f, request)) return std::nullopt;
  auto page = read_back<pos::Page<pos::Bill>>(bytes, bill_page_from_json);
  if (!page || page->page != request.page || page->per_page != request.per_page) {
    return std::nullopt;
  }
  if (!pos::apply_change(c, f, *page)) return std::nullopt;
  return dump(to_json(*page));
}

}  // namespace

std::optional<Maintenance> maintain(const ReadCache& reads, int64_t shop, pos::SalesChange change) {
  if (reads.map().mode() == pos::InvalidationMode::kCoarse) return std::nullopt;
  const int64_t seq = change.seq;
  return Maintenance{
      shop, seq,
      [shop, c = std::move(change)](std::string_view key, std::string_view value,
                                    std::optional<uint64_t> version) -> cache::Rewrite {
        const auto seq = static_cast<uint64_t>(c.seq);
        if (!version || *version + 1 < seq) return {};  // not maintained, or a change is missing
        if (*version >= seq) return {.keep = true};     // read after the change: it shows it
        auto read = ReadCache::read_of(key);
        http::Request req;
        if (!read || read->shop != std::to_string(shop) || !req.set_target(read->target).ok()) {
          return {};
        }
        std::optional<std::string> now;
        if (req.path == "/api/dashboard") now = dashboard_at(c, value);
        if (req.path == "/api/bills") now = bill_page_at(c, req, value);
        if (!now) return {};
        return {.keep = true, .value = std::move(*now), .version = seq};
      }};
}

}  // namespace tajir::api
