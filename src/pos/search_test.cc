// Search through the text indexes finds what the scan finds (internal/search.h): the same rows,
// in the same order, with the same totals, on both databases, for terms chosen to trip it up
// (case, 1-3 characters, LIKE's wildcards, quotes, non-ASCII, SKUs), after inserts, renames and
// deletes, and (SQLite) for rows that were there before the index was made.
#include "pos/internal/search.h"

#include <gtest/gtest.h>

#include "db/database.h"
#include "db/test_databases.h"
#include "pos/pos.h"
#include "pos/seed.h"

namespace tajir::pos {
namespace {

using internal::prefix_successor;

TEST(Search, PrefixSuccessorCountsTheLastCodePointUp) {
  EXPECT_EQ(prefix_successor("Bev-001"), "Bev-002");
  EXPECT_EQ(prefix_successor("a\x7f"), "a\xc2\x80");
  EXPECT_EQ(prefix_successor("caf\xc3\xa9"), "caf\xc3\xaa");    // é -> ê
  EXPECT_EQ(prefix_successor("\xed\x9f\xbf"), "\xee\x80\x80");  // U+D7FF -> U+E000
  EXPECT_EQ(prefix_successor("x\xf4\x8f\xbf\xbf"), "y");        // U+10FFFF is dropped
  EXPECT_EQ(prefix_successor("\xf4\x8f\xbf\xbf"), std::nullopt);
  EXPECT_EQ(prefix_successor(""), std::nullopt);
  EXPECT_EQ(prefix_successor("\xc3"), std::nullopt);          // cut short
  EXPECT_EQ(prefix_successor("\xc0\xaf"), std::nullopt);      // overlong
  EXPECT_EQ(prefix_successor("\xed\xa0\x80"), std::nullopt);  // a surrogate
}

// Names, SKUs and barcodes that put each rule to the test, added to a seeded shop.
const std::vector<ProductInput>& tricky_products() {
  auto product = [](std::string name, std::string sku, std::optional<std::string> barcode) {
    ProductInput in;
    in.name = std::move(name);
    in.sku = std::move(sku);
    in.barcode = std::move(barcode);
    in.price = 100;
    return in;
  };
  static const std::vector<ProductInput> k = {
      product("Caf\xc3\xa9 Cr\xc3\xa8me", "Bev-001", "6290001"),
      product("CAF\xc3\x89 NOIR", "bev-001", "6290002"),
      product("caf\xc3\xa9 au lait", "Bev-0010", std::nullopt),
      product("100% Juice", "Bev-001x", "629%"),
      product("50%_off Tea", "SKU_1", "629_1"),
      product("a_b and aXb", "SKU%1", std::nullopt),
      product("back\\slash", "SKU\\1", "\\629"),
      product("O'Reilly's \"Best\" Tea", "O'R-1", "\"1\""),
      product("\xd8\xb4\xd8\xa7\xd9\x8a \xd8\xa3\xd8\xae\xd8\xb6\xd8\xb1", "\xd8\xb4-1",
              std::nullopt),  // شاي أخضر
      product("\xd9\x82\xd9\x87\xd9\x88\xd8\xa9 \xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9",
              "\xc3\xa9-sku", std::nullopt),  // قهوة عربية
      product("\xc3\x89"
              "CLAIR",
              "\xc3\x89"
              "CL-1",
              "\xc3\xa9"
              "629"),
      product("ab", "ab", "ab"),
      product("Ab", "AB", std::nullopt),
      product("x\xf4\x8f\xbf\xbf end", "x\xf4\x8f\xbf\xbf", std::nullopt),
  };
  return k;
}

const std::vector<CustomerInput>& tricky_customers() {
  auto customer = [](std::string name, std::optional<std::string> phone,
                     std::optional<std::string> email) {
    CustomerInput in;
    in.name = std::move(name);
    in.phone = std::move(phone);
    in.email = std::move(email);
    return in;
  };
  static const std::vector<CustomerInput> k = {
      customer("Ann\xc3\xa9"
               "e Dupont",
               "+33 6 12 34", "Annee@Example.COM"),
      customer("ANN\xc3\x89"
               "E D",
               std::nullopt, "annee@example.com"),
      customer("O'Brien \"Jr\"", "ext. 12", std::nullopt),
      customer("100% Loyal", "50%_2", "pct@x.y"),
      customer("\xd8\xb9\xd9\x84\xd9\x8a \xd8\xae\xd8\xa7\xd9\x86", "\xd9\xa0\xd9\xa5\xd9\xa0",
               "\xd8\xb9@x.y"),  // علي خان, ٠٥٠
      customer("Under_score", "PHONE-ABC", "US@X.Y"),
      customer("Al", "12", "a@b"),
      customer("back\\slash", "\\1", std::nullopt),
  };
  return k;
}

const std::vector<std::string>& terms() {
  static const std::vector<std::string> k = {
      "a",
      "A",
      "ab",
      "AB",
      "Ab",
      "tea",
      "TEA",
      "Tea ",
      "Green Tea",
      "saff",
      "Saffron",
      "khan",
      "Bev",
      "Bev-",
      "Bev-001",
      "bev-001",
      "BEV-001",
      "Bev-0010",
      "Bev-001x",
      "Bev-00",
      "caf\xc3\xa9",
      "CAF\xc3\x89",
      "Caf\xc3\xa9",
      "\xc3\xa9",
      "\xc3\x89",
      "\xc3\xa9-s",
      "cr\xc3\xa8",
      "%",
      "_",
      "%_",
      "50%",
      "50%_",
      "0%_o",
      "a_b",
      "aXb",
      "\\",
      "\\s",
      "k\\sl",
      "'",
      "\"",
      "O'R",
      "'s \"",
      "\"Best\"",
      "\"\"",
      "\xd8\xb4",
      "\xd8\xb4\xd8\xa7",
      "\xd8\xb4\xd8\xa7\xd9\x8a",
      "\xd9\x82\xd9\x87\xd9\x88\xd8\xa9",
      "\xd8\xae\xd8\xa7\xd9\x86",
      "\xd9\xa0\xd9\xa5",
      "\xd9\xa0\xd9\xa5\xd9\xa0",
      "6290",
      "62900",
      "6290001",
      "629%",
      "629_",
      "\\629",
      "+971",
      "+33 6",
      "example.com",
      "EXAMPLE.COM",
      "@X.Y",
      "phone-abc",
      "PHONE",
      "ext.",
      "12",
      "123",
      "x\xf4\x8f\xbf\xbf",
      "\xf4\x8f\xbf\xbf",
      "  ",
      "   ",
      "a b",
      "nothing-matches-this",
      "ann\xc3\xa9"
      "e",
      "NN\xc3\x89",
      "under_",
      "\xc3\x89"
      "CL",
      "SKU",
      "SKU_",
      "SKU%",
      "SKU\\",
      // only in what change_tricky_rows() writes
      "renamed",
      "RENAMED SAFF",
      "Zzz-0",
      "new@",
      "NEW@EX",
      "khan ren",
  };
  return k;
}

// The ids P selects, by the scan alone, in id order.
std::vector<int64_t> scanned_ids(db::Database& db, const char* table, int64_t shop_id,
                                 const std::string& q, const std::optional<std::string>& category) {
  std::string where = std::string(" FROM ") + table + " WHERE shop_id = ?";
  std::vector<db::Value> params{shop_id};
  if (std::string_view(table) == "products") {
    internal::add_product_search_by_scan(q, where, params);
  } else {
    internal::add_customer_search_by_scan(q, where, params);
  }
  if (category) {
    where += " AND category = ?";
    params.push_back(*category);
  }
  std::vector<int64_t> ids;
  Status st = db.read([&](db::Transaction& tx) -> Status {
    auto rows = tx.query("SELECT id" + where + " ORDER BY id", params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) ids.push_back(r.integer(0));
    return OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  return ids;
}

// Pages through a list (each page's ids, and the total it reports) and checks it against the
// scan: every page for a short answer, the first three and the last for a long one.
template <typename List>
void expect_pages_match(const std::vector<int64_t>& expected, List list, const std::string& what) {
  constexpr int64_t kPerPage = 40;
  const int64_t pages =
      std::max<int64_t>(1, (static_cast<int64_t>(expected.size()) + kPerPage - 1) / kPerPage);
  for (int64_t page = 1; page <= pages + 1; ++page) {
    if (page > 3 && page < pages) continue;
    auto got = list(PageRequest{page, kPerPage});
    ASSERT_TRUE(got.ok()) << what << ": " << got.status().message();
    EXPECT_EQ(got->total, static_cast<int64_t>(expected.size())) << what;
    std::vector<int64_t> ids;
    for (const auto& item : got->items) ids.push_back(item.id);
    const auto from = std::min(expected.size(), static_cast<size_t>((page - 1) * kPerPage));
    const auto to = std::min(expected.size(), static_cast<size_t>(page * kPerPage));
    EXPECT_EQ(ids, std::vector<int64_t>(expected.begin() + from, expected.begin() + to))
        << what << ", page " << page;
  }
}

void expect_search_matches_scan(Pos& pos, const Principal& p, const std::string& phase) {
  db::Database& db = pos.database();
  for (const std::string& q : terms()) {
    const std::string what = phase + ", q=[" + q + "]";
    expect_pages_match(
        scanned_ids(db, "products", p.shop_id, q, std::nullopt),
        [&](const PageRequest& r) {
          return pos.list_products(p, {q, {}, false, {}}, r);
        },
        "products " + what);
    expect_pages_match(
        scanned_ids(db, "products", p.shop_id, q, std::string("Beverages")),
        [&](const PageRequest& r) {
          return pos.list_products(p, {q, std::string("Beverages"), false, {}}, r);
        },
        "Beverages " + what);
    expect_pages_match(
        scanned_ids(db, "customers", p.shop_id, q, std::nullopt),
        [&](const PageRequest& r) { return pos.list_customers(p, q, r); }, "customers " + what);
  }
}

struct Shop {
  Principal owner;
  std::vector<int64_t> products, customers;  // the tricky ones' ids
};

Shop seeded_shop(db::Database& db) {
  Pos seeding(db, PosOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
  auto logins =
      seed(seeding, {.shops = 2, .products = 1500, .customers = 1500, .bills = 0, .seed = 3},
           [](int64_t, int64_t, const char*) {});
  EXPECT_TRUE(logins.ok()) << logins.status().message();
  auto login = seeding.login("owner1", kDemoPassword);
  EXPECT_TRUE(login.ok());
  auto principal = seeding.authenticate(login->token);
  EXPECT_TRUE(principal.ok());
  return Shop{*principal, {}, {}};
}

void add_tricky_rows(Pos& pos, Shop& shop) {
  for (const ProductInput& in : tricky_products()) {
    auto made = pos.create_product(shop.owner, in);
    ASSERT_TRUE(made.ok()) << *in.name << ": " << made.status().message();
    shop.products.push_back(made->id);
  }
  for (const CustomerInput& in : tricky_customers()) {
    auto made = pos.create_customer(shop.owner, in);
    ASSERT_TRUE(made.ok()) << *in.name << ": " << made.status().message();
    shop.customers.push_back(made->id);
  }
}

// Renames, clears and deletes some of the tricky rows, so the index must follow.
void change_tricky_rows(Pos& pos, const Shop& shop) {
  ProductInput rename;
  rename.name = "Renamed Saffron Tea";
  ASSERT_TRUE(pos.update_product(shop.owner, shop.products[0], rename).ok());
  ProductInput resku;
  resku.sku = "Zzz-001";
  resku.barcode = std::optional<std::string>();
  ASSERT_TRUE(pos.update_product(shop.owner, shop.products[1], resku).ok());
  ProductInput restock;  // not a searched column
  restock.stock = 7;
  ASSERT_TRUE(pos.update_product(shop.owner, shop.products[2], restock).ok());
  ASSERT_TRUE(pos.delete_product(shop.owner, shop.products[3]).ok());
  CustomerInput recontact;
  recontact.email = std::string("NEW@EXAMPLE.COM");
  recontact.phone = std::optional<std::string>();
  ASSERT_TRUE(pos.update_customer(shop.owner, shop.customers[0], recontact).ok());
  CustomerInput rename_customer;
  rename_customer.name = "Khan Renamed";
  ASSERT_TRUE(pos.update_customer(shop.owner, shop.customers[2], rename_customer).ok());
  ASSERT_TRUE(pos.delete_customer(shop.owner, shop.customers[3]).ok());
}

void check_search(db::Database& db) {
  Shop shop = seeded_shop(db);
  Pos pos(db, PosOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
  add_tricky_rows(pos, shop);
  expect_search_matches_scan(pos, shop.owner, "after inserts");
  change_tricky_rows(pos, shop);
  expect_search_matches_scan(pos, shop.owner, "after updates and deletes");
}

TEST(Search, SqliteFindsWhatAScanFinds) { db::test_db::with_sqlite("search", check_search); }

TEST(Search, PostgresFindsWhatAScanFinds) { db::test_db::with_postgres("search", check_search); }

// Rows stored before migration 6 are found: the migration fills the index from them.
TEST(Search, SqliteIndexIsFilledFromRowsOlderThanIt) {
  db::test_db::with_sqlite("backfill", [](db::Database& db) {
    Shop shop = seeded_shop(db);
    Pos pos(db, PosOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
    // Back to the schema before the index, then rows it never saw.
    Status st = db.write([](db::Transaction& tx) -> Status {
      for (const char* s :
           {"DROP TRIGGER products_fts_insert", "DROP TRIGGER products_fts_delete",
            "DROP TRIGGER products_fts_update", "DROP TABLE products_fts",
            "DROP TRIGGER customers_fts_insert", "DROP TRIGGER customers_fts_delete",
            "DROP TRIGGER customers_fts_update", "DROP TABLE customers_fts",
            "DELETE FROM schema_migrations WHERE version = 6"}) {
        auto r = tx.execute(s);
        if (!r.ok()) return r.status();
      }
      return OkStatus();
    });
    ASSERT_TRUE(st.ok()) << st.message();
    add_tricky_rows(pos, shop);
    ASSERT_TRUE(db::migrate(db).ok());
    expect_search_matches_scan(pos, shop.owner, "after the backfill");
    change_tricky_rows(pos, shop);
    expect_search_matches_scan(pos, shop.owner, "after the backfill, updates and deletes");
  });
}

}  // namespace
}  // namespace tajir::pos
