// Text search of products and customers (the `q` of their lists): the one place its SQL is
// written, per dialect.
//
// What q finds is one predicate P, the same since search began:
//  - a product whose name contains q, ASCII letters compared without case (name_lower LIKE
//    '%q%' with q lower-cased and its % _ \ escaped), or whose sku or barcode starts with q
//    (substr(sku, 1, <bytes of q>) = q);
//  - a customer whose name or email contains q without ASCII case, or whose phone contains q
//    (LIKE: without ASCII case on SQLite, with it on PostgreSQL).
// P alone reads every row of the shop. So for a q of 3 characters or more the query also asks
// for a candidate set C that an index gives, and returns C ∩ P, which is P when C ⊇ P:
//  - SQLite: per table, an FTS5 table with the trigram tokenizer (external content, kept by
//    triggers: db/migrations.cc). C is the rows whose indexed text holds a covering set of q's
//    trigrams, after the tokenizer's case folding, which folds every letter (Unicode, not only
//    ASCII): a text that contains q up to ASCII case contains each of its trigrams after
//    folding, so C holds every row of P (and a few more, É for é or the trigrams apart, that P
//    then drops). The rows are read by rowid, in id order, so a page stops at its last row.
//  - Sku and barcode: the strings that start with q are those in [q, successor(q)) in code
//    point order (SQLite's BINARY collation, PostgreSQL's "C"), a range of a B-tree index.
//  - PostgreSQL: pg_trgm GIN indexes on name_lower, phone and lower(email) serve P's LIKEs
//    themselves (the index finds candidates, the executor rechecks each), so customers need no
//    C; products' C replaces P's substr() arms, which no index serves, by the ranges.
// The page and its total read the same set, so both cost what the candidates cost, not the
// table. A q of 1 or 2 characters has no trigram (FTS5 finds nothing for it), so it is P over
// the shop's rows, as before; so is a q that is not UTF-8 or whose prefix has no successor.
// src/pos/search_test.cc compares every path with P alone on both databases.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.h"

namespace tajir::pos::internal {

// The query of one shop's list, restricted to what a `q` finds (none, or empty: the whole list):
// `from_where` is " FROM table WHERE ..." with `params` for its placeholders, to which the
// caller may append further " AND ..." filters, and `order_by` is the id, spelled as the
// chosen form needs: on PostgreSQL's indexed form "id + 0", so that its planner cannot walk the
// primary key hoping to fill a page early (a LIMIT plan that reads the whole table when the
// term is rarer than it guessed). SQLite's indexed form reads the table NOT INDEXED: each
// candidate by its rowid, in id order, never through an index of the shop.
struct ListQuery {
  std::string from_where;
  std::vector<db::Value> params;
  const char* order_by = "id";
};
ListQuery product_list(db::Dialect dialect, int64_t shop_id, const std::optional<std::string>& q);
ListQuery customer_list(db::Dialect dialect, int64_t shop_id, const std::optional<std::string>& q);

// Appends P alone to `where` (and its values to `params`): the scan that the indexed forms
// must agree with.
void add_product_search_by_scan(std::string_view q, std::string& where,
                                std::vector<db::Value>& params);
void add_customer_search_by_scan(std::string_view q, std::string& where,
                                 std::vector<db::Value>& params);

// The least string above every string that starts with `prefix`, in code point order (its last
// code point counted up, skipping surrogates; trailing U+10FFFF dropped first). nullopt when
// there is none (empty, or only U+10FFFF) or `prefix` is not valid UTF-8.
std::optional<std::string> prefix_successor(std::string_view prefix);

}  // namespace tajir::pos::internal
