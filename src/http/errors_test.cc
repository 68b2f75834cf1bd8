#include "http/errors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tajir::http {
namespace {

nlohmann::json body_of(const Response& res) { return nlohmann::json::parse(res.body_view()); }

TEST(Error, ShapeWithAndWithoutField) {
  Response with = error(400, "invalid_argument", "price must be >= 0", "price");
  EXPECT_EQ(with.status, 400);
  EXPECT_EQ(with.header("Content-Type"), "application/json");
  EXPECT_EQ(body_of(with), nlohmann::json::parse(
                               R"({"error": {"code": "invalid_argument",
                                   "message": "price must be >= 0", "field": "price"}})"));

  Response without = error(404, "not_found", "no such product");
  EXPECT_EQ(
      body_of(without),
      nlohmann::json::parse(R"({"error": {"code": "not_found", "message": "no such product"}})"));
  EXPECT_FALSE(body_of(without)["error"].contains("field"));
}

TEST(Error, EscapesAndSurvivesInvalidUtf8) {
  Response res = error(400, "invalid_argument", "bad \"name\"\n\xff\xfe");
  auto body = body_of(res);  // parses: quotes and newline escaped, bad bytes replaced
  EXPECT_EQ(body["error"]["message"].get<std::string>().substr(0, 11), "bad \"name\"\n");
}

struct Mapping {
  Status status;
  int http;
  const char* code;
};

TEST(FromStatus, EachCodeMapsToOneStatusAndCode) {
  const Mapping mappings[] = {
      {InvalidArgument("bad price", "price"), 400, "invalid_argument"},
      {Status(StatusCode::kUnauthenticated, "no token"), 401, "unauthorized"},
      {Status(StatusCode::kPermissionDenied, "owners only"), 403, "forbidden"},
      {NotFound("no such bill"), 404, "not_found"},
      {Status(StatusCode::kAlreadyExists, "duplicate sku"), 409, "conflict"},
      {Status(StatusCode::kFailedPrecondition, "insufficient stock"), 409, "conflict"},
      {Status(StatusCode::kAborted, "lost a race"), 409, "conflict"},
      {Status(StatusCode::kUnprocessable, "key reused"), 422, "unprocessable"},
      {Status(StatusCode::kResourceExhausted, "slow down"), 429, "rate_limited"},
      {Status(StatusCode::kUnavailable, "db down"), 503, "unavailable"},
      {Internal("boom"), 500, "internal"},
  };
  for (const Mapping& m : mappings) {
    Response res = from_status(m.status);
    EXPECT_EQ(res.status, m.http) << m.code;
    EXPECT_EQ(http_status(m.status.code()), m.http) << m.code;
    EXPECT_EQ(body_of(res)["error"]["code"], m.code);
  }
}

TEST(FromStatus, A503SaysWhichServiceFailedOnlyForTheReasonsItKnows) {
  Response res =
      from_status(Status(StatusCode::kUnavailable, "disk I/O error [/var/lib/tajir/tajir.db]")
                      .with_reason("storage_full"));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(body_of(res)["error"]["code"], "storage_full");
  EXPECT_NE(body_of(res)["error"]["message"].get<std::string>().find("disk is full"),
            std::string::npos);
  EXPECT_EQ(res.body_view().find("/var/lib"), std::string_view::npos);
  res =
      from_status(Status(StatusCode::kUnavailable, "read-only").with_reason("database_read_only"));
  EXPECT_EQ(body_of(res)["error"]["code"], "database_read_only");
  res = from_status(
      Status(StatusCode::kUnavailable, "host db1:5432").with_reason("database_unavailable"));
  EXPECT_EQ(body_of(res)["error"]["code"], "database_unavailable");
  res = from_status(Status(StatusCode::kUnavailable, "x").with_reason("host_db1_down"));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(body_of(res)["error"]["code"], "unavailable");
  EXPECT_EQ(body_of(res)["error"]["message"], "a backing service is unavailable, retry later");
}

TEST(FromStatus, AReasonNamesTheCodeButNotTheStatus) {
  Response res = from_status(
      Status(StatusCode::kUnprocessable, "reused").with_reason("idempotency_key_reused"));
  EXPECT_EQ(res.status, 422);
  EXPECT_EQ(body_of(res)["error"]["code"], "idempotency_key_reused");
  res = from_status(Status(StatusCode::kInternal, "x").with_reason("secret_reason"));
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(body_of(res)["error"]["code"], "internal");
}

TEST(FromStatus, ClientMessagesPassAndFieldOnlyWhenSet) {
  auto body = body_of(from_status(InvalidArgument("must be positive", "items[2].quantity")));
  EXPECT_EQ(body["error"]["message"], "must be positive");
  EXPECT_EQ(body["error"]["field"], "items[2].quantity");

  body = body_of(from_status(Status(StatusCode::kFailedPrecondition, "insufficient stock")));
  EXPECT_EQ(body["error"]["message"], "insufficient stock");
  EXPECT_FALSE(body["error"].contains("field"));
}

TEST(FromStatus, ServerErrorsHideTheirMessages) {
  std::string secret = "ERROR: relation \"bills\" does not exist at db.internal:5432";
  for (StatusCode code : {StatusCode::kInternal, StatusCode::kUnavailable}) {
    Response res = from_status(Status(code, secret));
    EXPECT_EQ(res.body_view().find("bills"), std::string_view::npos);
    EXPECT_EQ(res.body_view().find("5432"), std::string_view::npos);
    EXPECT_FALSE(body_of(res)["error"]["message"].get<std::string>().empty());
  }
  // A field on an internal error is internal too.
  auto body = body_of(from_status(Status(StatusCode::kInternal, "x").with_field("secret_column")));
  EXPECT_FALSE(body["error"].contains("field"));
}

TEST(FromStatus, OkIsABugAndAnswers500) { EXPECT_EQ(from_status(OkStatus()).status, 500); }

TEST(ErrorOverload, CustomCodeKeepsTheMappedStatus) {
  Response res =
      error(Status(StatusCode::kFailedPrecondition, "insufficient stock"), "insufficient_stock");
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(body_of(res)["error"]["code"], "insufficient_stock");
  EXPECT_EQ(body_of(res)["error"]["message"], "insufficient stock");

  res = error(Internal("secret"), "db_failure");
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body_view().find("secret"), std::string_view::npos);
}

}  // namespace
}  // namespace tajir::http
