// The API in process, over SQLite, with the cache on: what a write drops when other writes or
// database faults come between its steps. A Database decorator runs a step of the test's own
// at the moment a handler opens a transaction, so each interleaving is exact, not a race.
#include "api/api.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "db/database.h"

namespace tajir::api {
namespace {

using http::Method;
using nlohmann::json;

constexpr const char* kToken = "operator-token-for-api-tests-0123456789";

// Forwards to a real database. A hook armed for the next write() runs first, once, and may
// replace its outcome; while fail_reads is set, every read() fails as an unreachable database.
class Interposed final : public db::Database {
 public:
  explicit Interposed(db::Database& inner) : inner_(inner) {}
  db::Dialect dialect() const override { return inner_.dialect(); }
  Status read(const std::function<Status(db::Transaction&)>& fn) override {
    if (fail_reads) return Status(StatusCode::kUnavailable, "injected read failure");
    return inner_.read(fn);
  }
  Status write(const std::function<Status(db::Transaction&)>& fn) override {
    if (auto hook = std::exchange(before_write, nullptr)) {
      if (Status st = hook(); !st.ok()) return st;
    }
    if (std::exchange(retry_next_write, false)) {
      // As PostgreSQL's backend does on a serialization failure: run fn, roll back, run it again.
      (void)inner_.write([&](db::Transaction& tx) {
        (void)fn(tx);
        return Status(StatusCode::kAborted, "rolled back by the test");
      });
    }
    return inner_.write(fn);
  }
  Status ping() override { return inner_.ping(); }
  uint64_t statements() const override { return inner_.statements(); }
  std::string describe() const override { return inner_.describe(); }

  std::function<Status()> before_write;
  bool fail_reads = false;
  bool retry_next_write = false;

 private:
  db::Database& inner_;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("tajir-api-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    std::filesystem::remove(path_);
    auto db = db::open("sqlite:" + path_.string());
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
    ASSERT_TRUE(db::migrate(*db_).ok());
    interposed_ = std::make_unique<Interposed>(*db_);
    pos_ = std::make_unique<pos::Pos>(
        *interposed_, pos::PosOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
    auto shop = pos_->register_shop("Corner Shop", "owner", "a-long-password");
    ASSERT_TRUE(shop.ok()) << shop.status().message();
    shop_ = shop->user.shop_id;
    token_ = shop->token;
    cache_ = std::make_unique<cache::Cache>(cache::Options{});
    api_ = std::make_unique<Api>(
        *pos_,
        ApiOptions{
            .admin_token = kToken, .cache = cache_.get(), .warm_on_login = false, .refill = false});
    api_->register_routes(router_);
  }
  void TearDown() override {
    api_.reset();
    std::filesystem::remove(path_);
    std::filesystem::remove(path_.string() + "-wal");
    std::filesystem::remove(path_.string() + "-shm");
  }

  http::Response call(Method m, const std::string& target, const json& body = nullptr) {
    http::Request req;
    req.method = m;
    EXPECT_TRUE(req.set_target(target).ok());
    // The owner's session is cached after its first use, so requests read no database for it.
    req.headers = {{"Authorization", "Bearer " + token_}};
    if (!body.is_null()) req.body = body.dump();
    return router_.route(req);
  }
  json body(const http::Response& r) { return json::parse(r.body_view()); }
  int64_t product(const std::string& sku, const std::string& category) {
    auto r = call(Method::kPost, "/api/products",
                  {{"name", "Tea " + sku},
                   {"sku", sku},
                   {"price", 500},
                   {"category", category},
                   {"stock", 10}});
    EXPECT_EQ(r.status, 201) << r.body_view();
    return body(r)["id"];
  }
  std::vector<int64_t> ids_in(const std::string& target) {
    auto r = call(Method::kGet, target);
    EXPECT_EQ(r.status, 200) << r.body_view();
    std::vector<int64_t> ids;
    const json page = body(r);  // not a range-for over a temporary's member
    for (const auto& item : page["items"]) ids.push_back(item["id"]);
    return ids;
  }

  std::filesystem::path path_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<Interposed> interposed_;
  std::unique_ptr<pos::Pos> pos_;
  std::unique_ptr<cache::Cache> cache_;
  http::Router router_;
  std::unique_ptr<Api> api_;
  int64_t shop_ = 0;
  std::string token_;
};

// Edit A moves the product's category Food -> Drinks and a till lists Drinks; edit B, which
// started before A committed, moves it back to Food. B must compare against Drinks (the row
// its own transaction changed), or it thinks nothing moved and the Drinks page keeps it.
TEST_F(ApiTest, AnEditComparesTheRowItsOwnTransactionChanged) {
  int64_t id = product("T-1", "Food");
  EXPECT_TRUE(ids_in("/api/products?category=Drinks").empty());
  interposed_->before_write = [&] {
    EXPECT_EQ(
        call(Method::kPut, "/api/products/" + std::to_string(id), {{"category", "Drinks"}}).status,
        200);
    EXPECT_EQ(ids_in("/api/products?category=Drinks"), std::vector<int64_t>{id});
    return OkStatus();
  };
  auto r = call(Method::kPut, "/api/products/" + std::to_string(id), {{"category", "Food"}});
  ASSERT_EQ(r.status, 200) << r.body_view();
  EXPECT_EQ(body(r)["category"], "Food");
  EXPECT_TRUE(ids_in("/api/products?category=Drinks").empty());
  EXPECT_EQ(ids_in("/api/products?category=Food"), std::vector<int64_t>{id});
}

// A delete whose every other read fails still drops what it deleted.
TEST_F(ApiTest, ADeleteInvalidatesEvenWhenAReadBesideItFails) {
  int64_t id = product("T-2", "Food");
  const std::string detail = "/api/products/" + std::to_string(id);
  ASSERT_EQ(call(Method::kGet, detail).status, 200);
  EXPECT_EQ(ids_in("/api/products"), std::vector<int64_t>{id});
  interposed_->fail_reads = true;
  ASSERT_EQ(call(Method::kDelete, detail).status, 204);
  interposed_->fail_reads = false;
  EXPECT_EQ(call(Method::kGet, detail).status, 404);
  EXPECT_TRUE(ids_in("/api/products").empty());
}

// A shop update answers from its own transaction: a failing read after it cannot turn a
// committed change into a 5xx that drops nothing.
TEST_F(ApiTest, AShopUpdateAnswersAndInvalidatesFromItsOwnTransaction) {
  ASSERT_EQ(body(call(Method::kGet, "/api/shop"))["timezone"], "UTC");
  interposed_->fail_reads = true;
  auto r = call(Method::kPut, "/api/shop", {{"timezone", "Asia/Dubai"}});
  interposed_->fail_reads = false;
  ASSERT_EQ(r.status, 200) << r.body_view();
  EXPECT_EQ(body(r)["timezone"], "Asia/Dubai");
  EXPECT_EQ(body(call(Method::kGet, "/api/shop"))["timezone"], "Asia/Dubai");
}

// A write transaction that the database runs twice (a serialization failure, then the retry)
// binds its parameters once each time.
TEST_F(ApiTest, WritesSurviveBeingRetried) {
  int64_t id = product("T-3", "Food");
  interposed_->retry_next_write = true;
  auto r = call(Method::kPut, "/api/shop", {{"name", "Corner Shop 2"}});
  EXPECT_EQ(r.status, 200) << r.body_view();
  interposed_->retry_next_write = true;
  r = call(Method::kPut, "/api/products/" + std::to_string(id), {{"price", 650}});
  EXPECT_EQ(r.status, 200) << r.body_view();
  EXPECT_EQ(body(call(Method::kGet, "/api/products/" + std::to_string(id)))["price"], 650);
}

// The operator names one shop: ?shop_id= twice is refused, not read as the first.
TEST_F(ApiTest, TheOperatorNamesOneShop) {
  http::Request req;
  ASSERT_TRUE(
      req.set_target("/api/products?shop_id=" + std::to_string(shop_) + "&shop_id=999").ok());
  req.headers = {{"Authorization", std::string("Bearer ") + kToken}};
  auto r = router_.route(req);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "shop_id");
}

// Every route that takes a token refuses the operator's token with one character changed (the
// same length: a comparison that stops at the first difference would tell by its timing), and
// the operator's real token works on each.
TEST_F(ApiTest, AWrongOperatorTokenOfTheRightLengthIsRefusedEverywhere) {
  const std::set<std::string> open = {"/healthz", "/api/auth/register", "/api/auth/login",
                                      "/cache",   "/cache/{file}",      "/metrics"};
  std::string wrong = kToken;
  wrong.back() = wrong.back() == 'x' ? 'y' : 'x';
  size_t checked = 0;
  for (const auto& [method, pattern] : Api::routes()) {
    if (open.contains(pattern) || method == Method::kHead || method == Method::kOptions) continue;
    std::string target = pattern;
    if (auto at = target.find("{id}"); at != std::string::npos) target.replace(at, 4, "1");
    for (const std::string& token : {wrong, std::string(kToken)}) {
      http::Request req;
      req.method = method;
      ASSERT_TRUE(req.set_target(target + "?shop_id=" + std::to_string(shop_)).ok());
      req.headers = {{"Authorization", "Bearer " + token}};
      int status = router_.route(req).status;
      if (token == wrong)
        EXPECT_EQ(status, 401) << http::to_string(method) << " " << target;
      else
        EXPECT_NE(status, 401) << http::to_string(method) << " " << target;
    }
    ++checked;
  }
  EXPECT_GE(checked, 25u);
}

}  // namespace
}  // namespace tajir::api
