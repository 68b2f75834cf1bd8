#include "http/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace tajir::http {
namespace {

Request make(Method method, std::string_view target) {
  Request req;
  req.method = method;
  EXPECT_TRUE(req.set_target(target).ok());
  return req;
}

// A handler that answers "<name>" plus its bound parameters.
Handler named(std::string name) {
  return [name](Request& req) {
    std::string body = name;
    for (const auto& [k, v] : req.path_params) body += " " + k + "=" + v;
    return Response::json(200, body);
  };
}

std::string code_of(const Response& res) {
  return nlohmann::json::parse(res.body_view())["error"]["code"];
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add(Method::kGet, "/api/products", named("list"));
    router_.add(Method::kPost, "/api/products", named("create"));
    router_.add(Method::kGet, "/api/products/{id}", named("get"));
    router_.add(Method::kPut, "/api/products/{id}", named("put"));
    router_.add(Method::kDelete, "/api/products/{id}", named("delete"));
    router_.add(Method::kPost, "/api/bills/{id}/void", named("void"));
    router_.add(Method::kPost, "/api/cache/{op}", named("cache-op"));
    router_.add(Method::kGet, "/api/cache/stats", named("stats"));
    router_.add(Method::kGet, "/api/shops/{shop}/items/{item}", named("item"));
    router_.add(Method::kGet, "/", named("root"));
  }
  Router router_;
};

TEST_F(RouterTest, MatchesAndBindsParameters) {
  Request req = make(Method::kGet, "/api/products/42?x=1");
  Response res = router_.route(req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body_view(), "get id=42");
  EXPECT_EQ(req.param("id"), "42");

  req = make(Method::kPost, "/api/bills/7/void");
  EXPECT_EQ(router_.route(req).body_view(), "void id=7");

  req = make(Method::kGet, "/api/shops/3/items/abc%20d");
  EXPECT_EQ(router_.route(req).body_view(), "item shop=3 item=abc d");

  req = make(Method::kGet, "/");
  EXPECT_EQ(router_.route(req).body_view(), "root");
}

TEST_F(RouterTest, LiteralBeatsParameterWhateverTheOrder) {
  Request req = make(Method::kGet, "/api/cache/stats");
  EXPECT_EQ(router_.route(req).body_view(), "stats");
  req = make(Method::kPost, "/api/cache/warm");
  EXPECT_EQ(router_.route(req).body_view(), "cache-op op=warm");
}

TEST_F(RouterTest, UnknownPathsAnswer404Json) {
  for (std::string_view target :
       {"/nope", "/api/products/", "/api/products/1/2", "/api//void", "/api/bills//void", "/api"}) {
    Request req = make(Method::kGet, target);
    Response res = router_.route(req);
    EXPECT_EQ(res.status, 404) << target;
    EXPECT_EQ(code_of(res), "not_found") << target;
    EXPECT_EQ(res.header("Content-Type"), "application/json");
  }
}

TEST_F(RouterTest, WrongMethodAnswers405WithAllow) {
  Request req = make(Method::kPatch, "/api/products/9");
  Response res = router_.route(req);
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(code_of(res), "method_not_allowed");
  EXPECT_EQ(res.header("Allow"), "GET, HEAD, PUT, DELETE, OPTIONS");

  req = make(Method::kGet, "/api/bills/1/void");
  res = router_.route(req);
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.header("Allow"), "POST, OPTIONS");
}

TEST_F(RouterTest, HeadFallsBackToGetAndOptionsAnswersAllow) {
  Request req = make(Method::kHead, "/api/products");
  EXPECT_EQ(router_.route(req).body_view(), "list");

  req = make(Method::kOptions, "/api/products");
  Response res = router_.route(req);
  EXPECT_EQ(res.status, 204);
  EXPECT_EQ(res.header("Allow"), "GET, HEAD, POST, OPTIONS");

  req = make(Method::kOptions, "/missing");
  EXPECT_EQ(router_.route(req).status, 404);
}

TEST_F(RouterTest, AnExplicitHeadRouteWins) {
  router_.add(Method::kHead, "/api/products", named("head"));
  Request req = make(Method::kHead, "/api/products");
  EXPECT_EQ(router_.route(req).body_view(), "head");
}

TEST_F(RouterTest, RoutesListsEveryRouteInOrder) {
  auto routes = router_.routes();
  ASSERT_EQ(routes.size(), 10u);
  EXPECT_EQ(routes[0], std::make_pair(Method::kGet, std::string("/api/products")));
  EXPECT_EQ(routes[5], std::make_pair(Method::kPost, std::string("/api/bills/{id}/void")));
  EXPECT_EQ(routes[9], std::make_pair(Method::kGet, std::string("/")));
}

TEST(Router, RejectsMalformedAndDuplicatePatterns) {
  Router router;
  router.add(Method::kGet, "/a/{id}", named("a"));
  EXPECT_THROW(router.add(Method::kGet, "/a/{id}", named("again")), std::invalid_argument);
  EXPECT_NO_THROW(router.add(Method::kPost, "/a/{id}", named("post")));
  for (std::string_view bad : {"", "a/b", "/a/{", "/a/{}", "/a/x{id}", "/a/{i{d}"}) {
    EXPECT_THROW(router.add(Method::kGet, bad, named("bad")), std::invalid_argument) << bad;
  }
}

TEST(Router, AllowedListsMethodsForAPath) {
  Router router;
  router.add(Method::kPost, "/x", named("x"));
  EXPECT_EQ(router.allowed("/x"), (std::vector<Method>{Method::kPost, Method::kOptions}));
  EXPECT_TRUE(router.allowed("/y").empty());
  EXPECT_EQ(allow_header({Method::kGet, Method::kHead}), "GET, HEAD");
}

}  // namespace
}  // namespace tajir::http
