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
//    triggers: db/migrations.cc). A phrase query finds every row whose indexed text contains q
//    after the tokenizer's case folding, which folds every letter (Unicode, not only ASCII): a
//    text that contains q up to ASCII case still contains it after folding, so C holds every
//    row of P (and a few more, É for é, that P then drops).
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

// Appends to `where` (a " FROM products WHERE shop_id = ? ..." clause) " AND ..." restricting
// it to the products `q` finds, and the values of its placeholders to `params`. Returns the
// ORDER BY of the page: the id, spelled "id + 0" on PostgreSQL's indexed form so that its
// planner cannot walk the primary key hoping to fill a page early (a LIMIT plan that reads the
// whole table when the term is rarer than it guessed).
// REQUIRES: q is not empty.
[[nodiscard]] const char* add_product_search(db::Dialect dialect, int64_t shop_id,
                                             std::string_view q, std::string& where,
                                             std::vector<db::Value>& params);

// The same for " FROM customers WHERE shop_id = ? ...".
[[nodiscard]] const char* add_customer_search(db::Dialect dialect, std::string_view q,
                                              std::string& where, std::vector<db::Value>& params);

// P alone, the scan the indexed forms must agree with (for tests).
void add_product_search_by_scan(std::string_view q, std::string& where,
                                std::vector<db::Value>& params);
void add_customer_search_by_scan(std::string_view q, std::string& where,
                                 std::vector<db::Value>& params);

// The least string above every string that starts with `prefix`, in code point order (its last
// code point counted up, skipping surrogates; trailing U+10FFFF dropped first). nullopt when
// there is none (empty, or only U+10FFFF) or `prefix` is not valid UTF-8.
std::optional<std::string> prefix_successor(std::string_view prefix);

// How many code points `s` has; nullopt when it is not valid UTF-8.
std::optional<size_t> utf8_length(std::string_view s);

}  // namespace tajir::pos::internal
