// The SQL of text search; internal/search.h says why it finds what a scan finds.
#include "pos/internal/search.h"

#include <algorithm>

#include "pos/internal/rows.h"

namespace tajir::pos::internal {
namespace {

// Trigram indexes find nothing for a shorter q.
constexpr size_t kMinIndexedLength = 3;

// The code points of s; nullopt when s is not valid UTF-8 (overlong forms, surrogates and
// values past U+10FFFF are not, as for PostgreSQL).
std::optional<std::u32string> decode_utf8(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    size_t n = lead < 0x80           ? 1
               : (lead >> 5) == 0x6  ? 2
               : (lead >> 4) == 0xE  ? 3
               : (lead >> 3) == 0x1E ? 4
                                     : 0;
    if (n == 0 || i + n > s.size()) return std::nullopt;
    char32_t cp = n == 1 ? lead : lead & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 0x2) return std::nullopt;
      cp = (cp << 6) | (c & 0x3F);
    }
    constexpr char32_t kLeast[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kLeast[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string encode_utf8(std::u32string_view cps) {
  std::string out;
  for (char32_t cp : cps) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

// The FTS5 query of some of q's trigrams, ANDed: each is in every text that contains q, so
// the rows are a superset of P's, whichever are taken. A query costs about the sum of its
// trigrams' row lists, so it takes those at code points 0, 3, 6, ... and the last (they cover
// q), less those with a space where others remain: a word's edge ("al ", " sa") is in much of
// a catalogue. (A phrase of all q's trigrams, the precise form, read ten times as much at
// 100,000 rows.) Each trigram is a quoted string, '"' doubled.
// REQUIRES: cps has at least kMinIndexedLength code points.
std::string fts_query(const std::u32string& cps) {
  std::vector<std::u32string_view> picked, spaced;
  const size_t last = cps.size() - kMinIndexedLength;
  for (size_t at = 0;; at = std::min(at + kMinIndexedLength, last)) {
    std::u32string_view trigram = std::u32string_view(cps).substr(at, kMinIndexedLength);
    (trigram.find(U' ') == trigram.npos ? picked : spaced).push_back(trigram);
    if (at == last) break;
  }
  if (picked.empty()) picked = spaced;
  std::string out;
  for (std::u32string_view trigram : picked) {
    if (!out.empty()) out += " AND ";
    out += '"';
    for (char c : encode_utf8(trigram)) {
      out += c;
      if (c == '"') out += '"';
    }
    out += '"';
  }
  return out;
}

constexpr const char* kByIdNotItsIndex = "id + 0";

// q's code points when a trigram index can serve it.
std::optional<std::u32string> indexable(std::string_view q) {
  std::optional<std::u32string> cps = decode_utf8(q);
  if (cps && cps->size() >= kMinIndexedLength) return cps;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::optional<std::u32string> cps = decode_utf8(prefix);
  if (!cps) return std::nullopt;
  while (!cps->empty() && cps->back() == 0x10FFFF) cps->pop_back();
  if (cps->empty()) return std::nullopt;
  char32_t& last = cps->back();
  last = last == 0xD7FF ? 0xE000 : last + 1;
  return encode_utf8(*cps);
}

void add_product_search_by_scan(std::string_view q, std::string& where,
                                std::vector<db::Value>& params) {
  // Sku and barcode: an exact prefix, compared the same way on both databases (LIKE's case
  // rules differ between them).
  where +=
      " AND (name_lower LIKE ? ESCAPE '\\' OR substr(sku, 1, ?) = ? OR substr(barcode, 1, ?) = "
      "?)";
  const int64_t len = static_cast<int64_t>(q.size());
  params.insert(params.end(),
                {like_pattern(ascii_lower(q)), len, std::string(q), len, std::string(q)});
}

void add_customer_search_by_scan(std::string_view q, std::string& where,
                                 std::vector<db::Value>& params) {
  where +=
      " AND (name_lower LIKE ? ESCAPE '\\' OR phone LIKE ? ESCAPE '\\' OR lower(email) LIKE ? "
      "ESCAPE '\\')";
  std::string pattern = like_pattern(ascii_lower(q));
  params.insert(params.end(), {pattern, like_pattern(q), pattern});
}

ListQuery product_list(db::Dialect dialect, int64_t shop_id, const std::optional<std::string>& q) {
  ListQuery out{" FROM products WHERE shop_id = ?", {shop_id}};
  if (!q || q->empty()) return out;
  std::optional<std::u32string> cps = indexable(*q);
  std::optional<std::string> above = prefix_successor(*q);
  if (cps && above) {
    if (dialect == db::Dialect::kSqlite) {
      out.from_where =
          " FROM products NOT INDEXED WHERE shop_id = ?"
          " AND id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?"
          " UNION ALL SELECT id FROM products WHERE shop_id = ? AND sku >= ? AND sku < ?"
          " UNION ALL SELECT id FROM products WHERE shop_id = ? AND barcode >= ? AND barcode < ?)";
      out.params.insert(out.params.end(),
                        {fts_query(*cps), shop_id, *q, *above, shop_id, *q, *above});
    } else {
      out.from_where +=
          " AND (name_lower LIKE ? ESCAPE '\\'"
          " OR (sku COLLATE \"C\" >= ? AND sku COLLATE \"C\" < ?)"
          " OR (barcode COLLATE \"C\" >= ? AND barcode COLLATE \"C\" < ?))";
      out.params.insert(out.params.end(), {like_pattern(ascii_lower(*q)), *q, *above, *q, *above});
      out.order_by = kByIdNotItsIndex;
    }
  }
  add_product_search_by_scan(*q, out.from_where, out.params);
  return out;
}

ListQuery customer_list(db::Dialect dialect, int64_t shop_id, const std::optional<std::string>& q) {
  ListQuery out{" FROM customers WHERE shop_id = ?", {shop_id}};
  if (!q || q->empty()) return out;
  if (std::optional<std::u32string> cps = indexable(*q)) {
    if (dialect == db::Dialect::kSqlite) {
      out.from_where =
          " FROM customers NOT INDEXED WHERE shop_id = ?"
          " AND id IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH ?)";
      out.params.push_back(fts_query(*cps));
    } else {
      out.order_by = kByIdNotItsIndex;  // P's LIKEs are the indexed form
    }
  }
  add_customer_search_by_scan(*q, out.from_where, out.params);
  return out;
}

}  // namespace tajir::pos::internal
