#include "api/query.h"

#include <gtest/gtest.h>

#include "api/read_cache.h"

namespace tajir::api {
namespace {

http::Request request(std::string_view target) {
  http::Request req;
  EXPECT_TRUE(req.set_target(target).ok()) << target;
  return req;
}

std::string key_of(std::string_view target, void (*read)(Query&)) {
  http::Request req = request(target);
  Query q(req);
  read(q);
  EXPECT_TRUE(q.status().ok()) << target << ": " << q.status().message();
  return ReadCache::key(7, "bills", q);
}

void read_bills(Query& q) {
  q.integer("page", 1, 1'000'000, 1);
  q.integer("per_page", 1, 200, 50);
  (void)q.text("status");
  (void)q.id("customer_id");
  (void)q.time("from");
}

TEST(Query, ANameGivenTwiceIsRefusedWhateverTheValues) {
  for (std::string_view target : {"/x?status=void&status=paid", "/x?status=paid&status=paid",
                                  "/x?page=3&page=1", "/x?page=1&b=2&page=1"}) {
    http::Request req = request(target);
    Query q(req);
    (void)q.text("status");
    q.integer("page", 1, 10, 1);
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument) << target;
    EXPECT_TRUE(q.status().field() == "status" || q.status().field() == "page") << target;
    EXPECT_NE(q.status().message().find("more than once"), std::string::npos);
  }
}

TEST(Query, ReadsAndChecksEachKind) {
  http::Request req = request("/x?n=42&b=1&id=9&t=2026-11-23&s=tea+bag");
  Query q(req);
  EXPECT_EQ(q.integer("n", 1, 100, 5), 42);
  EXPECT_EQ(q.integer("absent", 1, 100, 5), 5);
  EXPECT_EQ(q.boolean("b"), true);
  EXPECT_EQ(q.boolean("absent"), std::nullopt);
  EXPECT_EQ(q.id("id"), 9);
  EXPECT_TRUE(q.time("t").has_value());
  EXPECT_EQ(q.text("s"), "tea bag");
  EXPECT_TRUE(q.status().ok());
  for (auto [target, field] :
       {std::pair{"/x?n=0", "n"}, std::pair{"/x?n=101", "n"}, std::pair{"/x?n=4x", "n"},
        std::pair{"/x?n=", "n"}, std::pair{"/x?b=yes", "b"}, std::pair{"/x?id=0", "id"},
        std::pair{"/x?t=noon", "t"}}) {
    http::Request bad = request(target);
    Query b(bad);
    b.integer("n", 1, 100, 5);
    (void)b.boolean("b");
    (void)b.id("id");
    (void)b.time("t");
    EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument) << target;
    EXPECT_EQ(b.status().field(), field) << target;
  }
}

TEST(Query, TheKeyHoldsWhatWasReadInOneOrder) {
  const std::string key = key_of("/api/bills?status=paid&per_page=5", read_bills);
  EXPECT_EQ(key, "7|bills|/api/bills?per_page=5&status=paid");
  EXPECT_EQ(key_of("/api/bills?per_page=5&status=paid", read_bills), key);
  EXPECT_EQ(key_of("/api/bills?per_page=005&status=paid", read_bills), key)
      << "the integer, not its spelling";
  EXPECT_EQ(key_of("/api/bills?per_page=5&status=paid&utm=x&shop_id=3", read_bills), key)
      << "unread";
  EXPECT_EQ(key_of("/api/bills", read_bills), "7|bills|/api/bills")
      << "nothing read, nothing in the key";
  EXPECT_NE(key_of("/api/bills?per_page=5&status=void", read_bills), key);
  // Values are percent-encoded: a value cannot spell another query's key.
  EXPECT_EQ(key_of("/api/bills?status=a%26page%3D2", read_bills),
            "7|bills|/api/bills?status=a%26page%3D2");
}

TEST(Query, TheKeyReadsBackAsTheRequestThatMadeIt) {
  // The background refill sends the key's target again (ReadCache::read_of): the handler must
  // read the same values from it, and so make the same key.
  for (std::string_view target :
       {"/api/bills?status=paid&per_page=05&from=2026-11-23T10:15:00%2B04:00&x=1",
        "/api/bills?customer_id=12&status=a+b%26c", "/api/bills"}) {
    const std::string key = key_of(target, read_bills);
    auto read = ReadCache::read_of(key);
    ASSERT_TRUE(read.has_value()) << key;
    EXPECT_EQ(read->shop, "7");
    EXPECT_EQ(key_of(read->target, read_bills), key);
  }
}

// Found by fuzz/cache_key.cc (its input, fuzz/corpus/cache_key/escaped_path): the path is part
// of the key decoded, so an escaped '?' in it spelt another request's query, and an escaped
// control byte made a target the server's parser refuses.
TEST(Query, AnEscapedPathCannotSpellAQueryNorBreakTheRefillsTarget) {
  EXPECT_NE(key_of("/api/bills%3Fstatus=void", read_bills),
            key_of("/api/bills?status=void", read_bills));
  for (std::string_view target : {"/api/bills%3Fstatus=void", "/6%01-01&low_stock=1",
                                  "/api/a%20b/%2F?status=x", "/api/bills/5"}) {
    const std::string key = key_of(target, read_bills);
    auto read = ReadCache::read_of(key);
    ASSERT_TRUE(read.has_value()) << key;
    for (char c : read->target) EXPECT_GT(static_cast<unsigned char>(c), 0x20) << key;
    http::Request again = request(read->target);
    EXPECT_EQ(again.path, request(target).path) << key;
    EXPECT_EQ(key_of(read->target, read_bills), key);
  }
  // Plain paths are their own key: what warming fills (ReadCache::key of a path) is a GET's.
  EXPECT_EQ(key_of("/api/bills/5", read_bills), ReadCache::key(7, "bills", "/api/bills/5"));
}

}  // namespace
}  // namespace tajir::api
