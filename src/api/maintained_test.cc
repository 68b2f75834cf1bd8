// The dashboard, the first pages of bills, products and pages of products, kept up to date by
// bills and voids instead of dropped (api/maintained.h), compared byte for byte with what the
// database gives, on SQLite and on PostgreSQL: after random bills, voids, price edits and time
// zone changes from several tills at once, and when a fill lands between a bill's commit and
// its invalidation.
#include "api/maintained.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "api/api.h"
#include "db/database.h"
#include "db/postgres_test_server.h"

namespace tajir::api {
namespace {

using http::Method;
using nlohmann::json;

// One PostgreSQL server for the binary, started by the first test that needs it.
class Postgres : public ::testing::Environment {
 public:
  db::SharedPostgresTestServer server;
  void TearDown() override { server.stop(); }
};
Postgres* const postgres =
    static_cast<Postgres*>(::testing::AddGlobalTestEnvironment(new Postgres));

// The reads the cache keeps up to date, and one it does not (a second page).
const std::vector<std::string> kBillPages = {
    "/api/bills",
    "/api/bills?per_page=3",
    "/api/bills?status=paid&per_page=4",
    "/api/bills?status=void&per_page=2",
    "/api/bills?status=void",
    "/api/bills?customer_id=CUSTOMER&per_page=3",
    "/api/bills?page=2&per_page=3",
};
// And the product reads: PRODUCT is the shop's first product, LAST its last.
const std::vector<std::string> kProductReads = {
    "/api/products",
    "/api/products?per_page=3",
    "/api/products?page=2&per_page=3",
    "/api/products?q=Item%201",
    "/api/products?low_stock=true",
    "/api/products?active=true&per_page=5",
    "/api/products/PRODUCT",
    "/api/products/LAST",
};

class MaintainedTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url;
    if (GetParam() == "sqlite") {
      path_ = std::filesystem::temp_directory_path() /
              ("tajir-maintained-test-" + std::to_string(::getpid()) + ".db");
      std::filesystem::remove(path_);
      url = "sqlite:" + path_.string();
    } else {
      auto u = postgres->server.new_database("maintained_");
      ASSERT_TRUE(u.ok()) << u.status().message();
      url = *u;
    }
    auto db = db::open(url, {.sqlite_synchronous_full = false});
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
    ASSERT_TRUE(db::migrate(*db_).ok());
    pos_ = std::make_unique<pos::Pos>(
        *db_, pos::PosOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
    cache_ = std::make_unique<cache::Cache>(cache::Options{.maintenance_interval = {}});
    api_ = std::make_unique<Api>(
        *pos_, ApiOptions{.cache = cache_.get(), .warm_on_login = false, .refill = false});
    api_->register_routes(router_);
  }
  void TearDown() override {
    api_.reset();
    if (!path_.empty()) {
      for (const char* end : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + end);
    }
  }

  struct Shop {
    pos::Principal owner;
    std::string token;
    std::vector<int64_t> products, customers;
    std::mutex mu;
    std::vector<int64_t> paid;  // GUARDED_BY(mu): as far as the tills know
  };

  // A shop with `products` products and three customers. With `low`, every product is low on
  // stock, in a band of four units, so that sales and voids move products in and out of the
  // dashboard's 50; without, each becomes low after a dozen sales and leaves again by voids.
  std::unique_ptr<Shop> shop(const std::string& name, int products, bool low) {
    auto r = pos_->register_shop(name, name + "-owner", "a-long-password");
    EXPECT_TRUE(r.ok()) << r.status().message();
    auto made = std::make_unique<Shop>();
    Shop& s = *made;
    s.token = r->token;
    s.owner = {r->user.id, r->user.shop_id, pos::Role::kOwner, r->user.username, 0};
    for (int i = 0; i < products; ++i) {
      auto p = call(s, Method::kPost, "/api/products",
                    {{"name", "Item " + std::to_string(i)},
                     {"sku", "SKU-" + std::to_string(i)},
                     {"price", 100 + 37 * i},
                     {"stock", low ? 450 + i % 4 : 5000},
                     {"low_stock_threshold", low ? 500 : 4990}});
      EXPECT_EQ(p.status, 201) << p.body_view();
      s.products.push_back(json::parse(p.body_view())["id"]);
    }
    for (int i = 0; i < 3; ++i) {
      auto c =
          call(s, Method::kPost, "/api/customers", {{"name", "Customer " + std::to_string(i)}});
      EXPECT_EQ(c.status, 201) << c.body_view();
      s.customers.push_back(json::parse(c.body_view())["id"]);
    }
    return made;
  }

  // One till's move: mostly a sale of 1 to 3 lines, a void of a recent (sometimes an old, now
  // and then an already void) bill, a product edit, rarely a new time zone.
  void random_write(Shop& s, std::mt19937& rng) {
    const unsigned dice = rng() % 100;
    if (dice < 60) {
      json items = json::array();
      for (unsigned n = 1 + rng() % 3; n > 0; --n) {
        items.push_back(
            {{"product_id", s.products[rng() % s.products.size()]}, {"quantity", 1 + rng() % 2}});
      }
      json body{{"items", items}, {"payment_method", "cash"}};
      if (rng() % 3 == 0) body["customer_id"] = s.customers[rng() % s.customers.size()];
      auto r = call(s, Method::kPost, "/api/bills", body);
      ASSERT_EQ(r.status, 201) << r.body_view();
      std::lock_guard lock(s.mu);
      s.paid.push_back(json::parse(r.body_view())["id"]);
    } else if (dice < 85) {
      int64_t id = 0;
      {
        std::lock_guard lock(s.mu);
        if (s.paid.empty()) return;
        const size_t back =
            rng() % 2 ? rng() % std::min<size_t>(s.paid.size(), 12) : rng() % s.paid.size();
        id = s.paid[s.paid.size() - 1 - back];
        if (rng() % 10 != 0) s.paid.erase(s.paid.end() - 1 - static_cast<long>(back));
      }
      auto r = call(s, Method::kPost, "/api/bills/" + std::to_string(id) + "/void");
      ASSERT_TRUE(r.status == 200 || r.status == 409) << r.body_view();
    } else if (dice < 98) {
      // A new price, and sometimes a new name, which the product's next lines carry (the top
      // products show the largest name of a product's lines).
      const size_t i = rng() % s.products.size();
      json edit{{"price", 100 + rng() % 900}};
      if (rng() % 2) edit["name"] = "Item " + std::to_string(i) + " " + char('a' + rng() % 26);
      auto r = call(s, Method::kPut, "/api/products/" + std::to_string(s.products[i]), edit);
      ASSERT_EQ(r.status, 200) << r.body_view();
    } else {
      auto r = call(s, Method::kPut, "/api/shop", {{"timezone", rng() % 2 ? "Asia/Dubai" : "UTC"}});
      ASSERT_EQ(r.status, 200) << r.body_view();
    }
  }

  http::Response call(const Shop& s, Method m, const std::string& target,
                      const json& body = nullptr) {
    http::Request req;
    req.method = m;
    EXPECT_TRUE(req.set_target(target).ok()) << target;
    req.headers = {{"Authorization", "Bearer " + s.token}};
    if (!body.is_null()) req.body = body.dump();
    return router_.route(req);
  }

  std::string target(const Shop& s, std::string t) {
    if (auto at = t.find("CUSTOMER"); at != std::string::npos)
      t.replace(at, 8, std::to_string(s.customers[0]));
    if (auto at = t.find("PRODUCT"); at != std::string::npos)
      t.replace(at, 7, std::to_string(s.products[0]));
    if (auto at = t.find("LAST"); at != std::string::npos)
      t.replace(at, 4, std::to_string(s.products.back()));
    return t;
  }

  // What the database gives for the read `target` answered with `body`: the dashboard made at
  // the instant the body says it was (to the second; every bill here is younger than 30 days,
  // so its 30-day window holds the same bills), a page of bills as listed now.
  std::string fresh(const Shop& s, const std::string& target, std::string_view body) {
    if (target == "/api/dashboard") {
      auto at = pos::parse_time(json::parse(body)["generated_at"].get<std::string>());
      auto d = pos_->dashboard(s.owner, *at);
      EXPECT_TRUE(d.ok()) << d.status().message();
      return dump(to_json(*d));
    }
    http::Request req;
    EXPECT_TRUE(req.set_target(target).ok());
    if (req.path.starts_with("/api/products/")) {
      auto p = pos_->product(s.owner, std::stoll(req.path.substr(14)));
      EXPECT_TRUE(p.ok()) << p.status().message();
      return dump(to_json(*p));
    }
    Query q(req);
    pos::PageRequest page = page_of(q);
    if (req.path == "/api/products") {
      auto products = pos_->list_products(s.owner, product_filter(q), page);
      EXPECT_TRUE(products.ok()) << products.status().message();
      return dump(to_json(*products));
    }
    pos::BillFilter f = bill_filter(q);
    auto bills = pos_->list_bills(s.owner, f, page);
    EXPECT_TRUE(bills.ok()) << bills.status().message();
    return dump(to_json(*bills));
  }

  // Reads every maintained target and compares it with the database; returns the hits.
  int check(const Shop& s, const std::string& when) {
    int hits = 0;
    std::vector<std::string> targets{"/api/dashboard"};
    for (const auto& t : kBillPages) targets.push_back(target(s, t));
    for (const auto& t : kProductReads) targets.push_back(target(s, t));
    for (const auto& t : targets) {
      auto r = call(s, Method::kGet, t);
      EXPECT_EQ(r.status, 200) << t << ": " << r.body_view();
      const bool hit = r.header("X-Cache") == "HIT";
      hits += hit;
      EXPECT_EQ(r.body_view(), fresh(s, t, r.body_view()))
          << t << (hit ? " (a hit)" : " (a miss)") << " " << when;
    }
    return hits;
  }

  std::filesystem::path path_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<pos::Pos> pos_;
  std::unique_ptr<cache::Cache> cache_;
  http::Router router_;
  std::unique_ptr<Api> api_;
};

// The two shops the randomized tests run on: one whose low-stock list is never full (so it
// lists every low product), one with more low-stock products than the dashboard's 50.
struct Kind {
  const char* name;
  int products;
  bool low;
};
constexpr Kind kShops[] = {{"small", 7, false}, {"many-low", 56, true}};

// One till, and every maintained read compared with the database after each of its moves: a
// move the maintenance gets wrong shows at once, before a later one drops the read.
TEST_P(MaintainedTest, EveryMaintainedReadIsExactAfterEachBillVoidAndEdit) {
  int hits = 0;
  for (const Kind& k : kShops) {
    auto s = shop(std::string("one-") + k.name, k.products, k.low);
    std::mt19937 rng(static_cast<unsigned>(k.products));
    hits += check(*s, "before any bill");
    for (int move = 0; move < 150; ++move) {
      random_write(*s, rng);
      if (HasFatalFailure()) return;
      hits += check(*s, "after move " + std::to_string(move) + " of " + k.name);
    }
  }
  EXPECT_GT(cache_->stats().total.rewrites, 500u);
  EXPECT_GT(hits, 2500) << "most reads are kept up to date, not read again";
}

// Three tills sell, void, edit prices and now and then the shop's time zone, while a fourth
// reads every maintained read; between rounds, with nothing in flight, each of them (from the
// cache or not) equals what the database gives.
TEST_P(MaintainedTest, RandomBillsAndVoidsFromSeveralTillsKeepEveryMaintainedReadExact) {
  int hits = 0;
  for (const Kind& k : kShops) {
    auto s = shop(std::string("many-") + k.name, k.products, k.low);
    hits += check(*s, "before any bill");
    for (int round = 0; round < 30; ++round) {
      std::vector<std::jthread> tills;
      for (int t = 0; t < 3; ++t) {
        tills.emplace_back([&, t] {
          std::mt19937 rng(1000 * round + 10 * t + static_cast<unsigned>(k.products));
          for (int move = 0; move < 3; ++move) random_write(*s, rng);
        });
      }
      tills.emplace_back([&] {  // the back office, reading while the tills write
        std::mt19937 rng(round);
        for (int i = 0; i < 8; ++i) {
          const size_t r = rng() % (kBillPages.size() + 1);
          call(*s, Method::kGet,
               r == kBillPages.size() ? "/api/dashboard" : target(*s, kBillPages[r]));
        }
      });
      tills.clear();
      hits += check(*s, "after round " + std::to_string(round) + " of " + k.name);
    }
  }
  EXPECT_GT(cache_->stats().total.rewrites, 100u);
  EXPECT_GT(hits, 100) << "most reads are kept up to date, not read again";
}

// A busy shop: a catalogue of 150, sales of one or two lines of Zipf-popular products, most of
// them outside the top five. After each sale the dashboard (and the first page of bills) is
// still a hit, and exact: the dashboard knows the 30 best products as read, and bounds the
// rest by the 31st's revenue plus what sales since gave them.
TEST_P(MaintainedTest, ABusyShopsDashboardStaysAHitThroughSalesOfProductsOutsideTheTopFive) {
  auto made = shop("busy", 150, false);
  Shop& s = *made;
  std::mt19937 rng(7);
  std::vector<double> weights;
  for (size_t i = 0; i < s.products.size(); ++i) weights.push_back(1.0 / std::pow(i + 1.0, 0.9));
  std::discrete_distribution<size_t> popular(weights.begin(), weights.end());
  auto sell = [&] {
    json items = json::array();
    for (unsigned n = 1 + rng() % 2; n > 0; --n) {
      items.push_back({{"product_id", s.products[popular(rng)]}, {"quantity", 1}});
    }
    ASSERT_EQ(
        call(s, Method::kPost, "/api/bills", {{"items", items}, {"payment_method", "card"}}).status,
        201);
  };
  for (int i = 0; i < 60; ++i) sell();  // the top five fill
  int hits = 0, outside = 0;
  const std::vector<std::string> targets = {"/api/dashboard",
                                            "/api/bills",
                                            "/api/products",
                                            "/api/products?page=2",
                                            "/api/products?q=Item%201",
                                            target(s, "/api/products/PRODUCT")};
  for (const auto& t : targets) call(s, Method::kGet, t);
  for (int i = 0; i < 100; ++i) {
    const json before = json::parse(call(s, Method::kGet, "/api/dashboard").body_view());
    sell();
    auto r = call(s, Method::kGet, "/api/dashboard");
    EXPECT_EQ(r.body_view(), fresh(s, "/api/dashboard", r.body_view()));
    hits += r.header("X-Cache") == "HIT";
    outside += before["top_products"].size() == 5;
    auto page = call(s, Method::kGet, "/api/bills");
    EXPECT_EQ(page.header("X-Cache"), "HIT");
    EXPECT_EQ(page.body_view(), fresh(s, "/api/bills", page.body_view()));
    // The catalogue's pages and products: what the sale sold is in them, still hits.
    for (const std::string& t :
         {std::string("/api/products"), std::string("/api/products?page=2"),
          std::string("/api/products?q=Item%201"), target(s, "/api/products/PRODUCT")}) {
      auto r = call(s, Method::kGet, t);
      EXPECT_EQ(r.header("X-Cache"), "HIT") << t << " after sale " << i;
      EXPECT_EQ(r.body_view(), fresh(s, t, r.body_view())) << t;
    }
  }
  EXPECT_EQ(outside, 100) << "the top five were full throughout";
  EXPECT_GE(hits, 80) << "of 100 sales";
}

// A fill that reads the database after a bill committed and stores before the bill's
// invalidation runs already shows the bill: the invalidation keeps it as it is. Applying the
// bill to it would count it twice.
TEST_P(MaintainedTest, AFillBetweenABillsCommitAndItsInvalidationIsNotCountedTwice) {
  auto made = shop("between", 3, false);
  Shop& s = *made;
  ReadCache reads(cache_.get(), pos::CacheMap());
  auto sell = [&](pos::SalesChange& change) {
    pos::BillInput in{.items = {{.product_id = s.products[0], .quantity = 2}},
                      .payment_method = "card"};
    auto bill = pos_->create_bill(s.owner, in, std::nullopt, nullptr, &change);
    ASSERT_TRUE(bill.ok()) << bill.status().message();
  };
  auto invalidate = [&](const pos::SalesChange& change) {  // what the route does after commit
    auto tags = reads.map().bill_written(s.owner.shop_id, change.bill);
    std::vector<std::string_view> views(tags.begin(), tags.end());
    return cache_->rewrite_tags(views, maintain(reads, s.owner.shop_id, change)->rewriter(false));
  };
  const std::vector<std::string> targets = {"/api/dashboard", "/api/bills", "/api/bills?per_page=3",
                                            "/api/products"};
  const std::string product = target(s, "/api/products/PRODUCT");

  pos::SalesChange first;
  sell(first);  // committed, not yet invalidated
  for (const auto& t : targets) {
    ASSERT_EQ(call(s, Method::kGet, t).header("X-Cache"), "MISS") << t << " is read at change 1";
  }
  EXPECT_EQ(invalidate(first), 0u) << "nothing dropped";
  for (const auto& t : targets) {
    auto r = call(s, Method::kGet, t);
    EXPECT_EQ(r.header("X-Cache"), "HIT") << t;
    EXPECT_EQ(r.body_view(), fresh(s, t, r.body_view())) << t << ": the bill counted once";
  }
  EXPECT_EQ(json::parse(call(s, Method::kGet, "/api/dashboard").body_view())["bills"]["all_time"],
            1);
  EXPECT_EQ(json::parse(call(s, Method::kGet, "/api/bills").body_view())["total"], 1);

  // The usual order: read at change 1, then change 2 commits and is applied.
  pos::SalesChange second;
  sell(second);
  EXPECT_EQ(invalidate(second), 0u);
  for (const auto& t : targets) {
    auto r = call(s, Method::kGet, t);
    EXPECT_EQ(r.header("X-Cache"), "HIT") << t;
    EXPECT_EQ(r.body_view(), fresh(s, t, r.body_view())) << t;
  }

  // Two changes invalidated out of order: the later one finds reads a change behind, so they go;
  // but a product takes the later change's row of it, which the earlier one leaves.
  ASSERT_EQ(call(s, Method::kGet, product).header("X-Cache"), "HIT") << "the page stored it";
  pos::SalesChange third, fourth;
  sell(third);
  sell(fourth);
  EXPECT_EQ(invalidate(fourth), targets.size());
  EXPECT_EQ(invalidate(third), 0u);
  for (const auto& t : targets) {
    auto r = call(s, Method::kGet, t);
    EXPECT_EQ(r.header("X-Cache"), "MISS") << t;
    EXPECT_EQ(r.body_view(), fresh(s, t, r.body_view())) << t;
  }
  auto r = call(s, Method::kGet, product);
  EXPECT_EQ(r.header("X-Cache"), "HIT");
  EXPECT_EQ(r.body_view(), fresh(s, product, r.body_view()));
  EXPECT_EQ(json::parse(r.body_view())["stock"], 5000 - 8) << "four sales of two";
}

INSTANTIATE_TEST_SUITE_P(Backends, MaintainedTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tajir::api
