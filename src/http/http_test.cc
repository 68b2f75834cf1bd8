#include "http/http.h"

#include <gtest/gtest.h>

namespace tajir::http {
namespace {

TEST(PercentDecode, DecodesEscapesAndPlusOnlyInQueries) {
  EXPECT_EQ(*percent_decode("a%20b+c%2Fd", false), "a b+c/d");
  EXPECT_EQ(*percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(*percent_decode("%e2%82%AC", false), "\xe2\x82\xac");
}

TEST(PercentEncode, KeepsUnreservedAndRoundTrips) {
  EXPECT_EQ(percent_encode("Tea-bag_1.0~"), "Tea-bag_1.0~");
  EXPECT_EQ(percent_encode("a&b=c d%"), "a%26b%3Dc%20d%25");
  for (std::string_view s : {"", "x y+z", "\xe2\x82\xac/?#&=", "100%"}) {
    EXPECT_EQ(*percent_decode(percent_encode(s), true), s);
  }
}

TEST(PercentDecode, RejectsMalformedEscapesAndNul) {
  for (std::string_view bad : {"%", "%2", "abc%zz", "%g0", "%00"}) {
    auto r = percent_decode(bad, true);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(EscapeForLog, PassesPrintableAsciiAndEscapesEveryOtherByte) {
  EXPECT_EQ(escape_for_log("/api/products?q=tea%20bag&page=2"), "/api/products?q=tea%20bag&page=2");
  EXPECT_EQ(escape_for_log("/x?\xff\xfe"), "/x?\\xff\\xfe");
  EXPECT_EQ(escape_for_log(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(escape_for_log("a b\tc\r\nd\x7f"), "a\\x20b\\x09c\\x0d\\x0ad\\x7f");
  EXPECT_EQ(escape_for_log("\xe2\x82\xac"), "\\xe2\\x82\\xac");  // UTF-8 too: the line stays ASCII
  EXPECT_EQ(escape_for_log("a\\x41"), "a\\x5cx41");  // so that an escape cannot be forged
  EXPECT_EQ(escape_for_log(""), "");
}

TEST(BearerToken, TheSchemeIsCaseInsensitive) {
  for (std::string_view h : {"Bearer abc", "bearer abc", "BEARER abc", "bEaReR   abc"}) {
    EXPECT_EQ(bearer_token(h), "abc") << h;
  }
  EXPECT_EQ(bearer_token(std::nullopt), std::nullopt);
  for (std::string_view h : {"Bearer", "Bearer ", "Bearer   ", "Bearerabc", "Basic abc",
                             "Bearer\tabc", "Bear abc", ""}) {
    EXPECT_EQ(bearer_token(h), std::nullopt) << h;
  }
}

TEST(ParseQuery, KeepsOrderRepeatsAndEmptyValues) {
  auto q = parse_query("a=1&b=x%20y&&a=2&flag&c=");
  ASSERT_TRUE(q.ok());
  Fields expected = {{"a", "1"}, {"b", "x y"}, {"a", "2"}, {"flag", ""}, {"c", ""}};
  EXPECT_EQ(*q, expected);
}

TEST(Request, SetTargetSplitsAndDecodes) {
  Request req;
  ASSERT_TRUE(req.set_target("/api/products%2Fx?q=tea+bag&page=2&q=second").ok());
  EXPECT_EQ(req.target, "/api/products%2Fx?q=tea+bag&page=2&q=second");
  EXPECT_EQ(req.path, "/api/products/x");
  EXPECT_EQ(req.query("q"), "tea bag");  // the first of repeated values
  EXPECT_EQ(req.query("page"), "2");
  EXPECT_EQ(req.query("missing"), std::nullopt);
  EXPECT_EQ(req.query("Q"), std::nullopt);  // query names are case-sensitive
}

TEST(Request, SetTargetRejectsNonOriginFormAndBadEscapes) {
  Request req;
  EXPECT_FALSE(req.set_target("http://example.com/").ok());
  EXPECT_FALSE(req.set_target("*").ok());
  EXPECT_FALSE(req.set_target("").ok());
  EXPECT_FALSE(req.set_target("/a%zz").ok());
  Status st = req.set_target("/a?x=%zz");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.field(), "x");
}

TEST(Request, HeadersAreCaseInsensitiveParamsAreNot) {
  Request req;
  req.headers = {{"Content-Type", "application/json"}, {"X-Thing", "1"}, {"x-thing", "2"}};
  req.path_params = {{"id", "42"}};
  EXPECT_EQ(req.header("content-type"), "application/json");
  EXPECT_EQ(req.header("X-THING"), "1");
  EXPECT_EQ(req.header("Authorization"), std::nullopt);
  EXPECT_EQ(req.param("id"), "42");
  EXPECT_EQ(req.param("ID"), "");
}

TEST(Response, HelpersSetTypeAndShareTheBody) {
  Response j = Response::json(201, R"({"id":1})");
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(j.header("content-type"), "application/json");
  EXPECT_EQ(j.body_view(), R"({"id":1})");

  auto cached = std::make_shared<const std::string>("cached bytes");
  Response b = Response::bytes(200, cached, "text/plain");
  EXPECT_EQ(b.body.get(), cached.get());  // shared, not copied
  EXPECT_EQ(b.header("Content-Type"), "text/plain");

  Response e = Response::empty(204);
  EXPECT_EQ(e.body_size(), 0u);
  EXPECT_TRUE(e.headers.empty());

  e.set_header("ETag", "\"a\"");
  e.set_header("etag", "\"b\"");
  ASSERT_EQ(e.headers.size(), 1u);
  EXPECT_EQ(e.header("ETAG"), "\"b\"");
}

TEST(Method, RoundTripsAndIsCaseSensitive) {
  for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kDelete,
                   Method::kPatch, Method::kOptions}) {
    EXPECT_EQ(parse_method(to_string(m)), m);
  }
  EXPECT_EQ(parse_method("get"), std::nullopt);
  EXPECT_EQ(parse_method("TRACE"), std::nullopt);
}

}  // namespace
}  // namespace tajir::http
