// The SQL of text search; internal/search.h says why it finds what a scan finds.
#include "pos/internal/search.h"

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

// An FTS5 phrase: every character literal, '"' doubled.
std::string fts_phrase(std::string_view q) {
  std::string out = "\"";
  for (char c : q) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

constexpr const char* kById = "id";
constexpr const char* kByIdNotItsIndex = "id + 0";

bool indexable(std::string_view q) {
  std::optional<size_t> n = utf8_length(q);
  return n && *n >= kMinIndexedLength;
}

}  // namespace

std::optional<size_t> utf8_length(std::string_view s) {
  std::optional<std::u32string> cps = decode_utf8(s);
  if (!cps) return std::nullopt;
  return cps->size();
}

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

const char* add_product_search(db::Dialect dialect, int64_t shop_id, std::string_view q,
                               std::string& where, std::vector<db::Value>& params) {
  const char* order_by = kById;
  std::optional<std::string> above = prefix_successor(q);
  if (indexable(q) && above) {
    const std::string sq(q);
    if (dialect == db::Dialect::kSqlite) {
      where +=
          " AND id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?"
          " UNION ALL SELECT id FROM products WHERE shop_id = ? AND sku >= ? AND sku < ?"
          " UNION ALL SELECT id FROM products WHERE shop_id = ? AND barcode >= ? AND barcode < ?)";
      params.insert(params.end(), {fts_phrase(q), shop_id, sq, *above, shop_id, sq, *above});
    } else {
      where +=
          " AND (name_lower LIKE ? ESCAPE '\\'"
          " OR (sku COLLATE \"C\" >= ? AND sku COLLATE \"C\" < ?)"
          " OR (barcode COLLATE \"C\" >= ? AND barcode COLLATE \"C\" < ?))";
      params.insert(params.end(), {like_pattern(ascii_lower(q)), sq, *above, sq, *above});
      order_by = kByIdNotItsIndex;
    }
  }
  add_product_search_by_scan(q, where, params);
  return order_by;
}

const char* add_customer_search(db::Dialect dialect, std::string_view q, std::string& where,
                                std::vector<db::Value>& params) {
  const char* order_by = kById;
  if (indexable(q)) {
    if (dialect == db::Dialect::kSqlite) {
      where += " AND id IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH ?)";
      params.push_back(fts_phrase(q));
    } else {
      order_by = kByIdNotItsIndex;  // P's LIKEs are the indexed form
    }
  }
  add_customer_search_by_scan(q, where, params);
  return order_by;
}

}  // namespace tajir::pos::internal
