#include "db/postgres/postgres_database.h"

#include <gtest/gtest.h>

namespace tajir::db {
namespace {

std::string numbered(std::string_view sql, int expected_count) {
  int count = -1;
  std::string out = number_placeholders(sql, &count);
  EXPECT_EQ(count, expected_count) << sql;
  return out;
}

TEST(NumberPlaceholders, NumbersInOrder) {
  EXPECT_EQ(numbered("SELECT * FROM t WHERE a = ? AND b IN (?, ?)", 3),
            "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)");
  EXPECT_EQ(numbered("SELECT 1", 0), "SELECT 1");
  EXPECT_EQ(numbered("", 0), "");
  EXPECT_EQ(numbered("?", 1), "$1");
}

TEST(NumberPlaceholders, LeavesQuotedTextAndCommentsAlone) {
  EXPECT_EQ(numbered("SELECT 'a?', 'it''s ?', ?", 1), "SELECT 'a?', 'it''s ?', $1");
  EXPECT_EQ(numbered(R"(SELECT "col?" FROM "t""?" WHERE x = ?)", 1),
            R"(SELECT "col?" FROM "t""?" WHERE x = $1)");
  EXPECT_EQ(numbered(R"(SELECT E'\'?', e'\\', ?)", 1), R"(SELECT E'\'?', e'\\', $1)");
  EXPECT_EQ(numbered("SELECT $$ ? $$, $tag$ '?' $tag$, ?", 1),
            "SELECT $$ ? $$, $tag$ '?' $tag$, $1");
  EXPECT_EQ(numbered("SELECT ? -- why?\n, ? /* what? /* nested? */ still? */ , ?", 3),
            "SELECT $1 -- why?\n, $2 /* what? /* nested? */ still? */ , $3");
}

TEST(NumberPlaceholders, UnterminatedQuotesSwallowTheRest) {
  EXPECT_EQ(numbered("SELECT ?, 'oops ?", 1), "SELECT $1, 'oops ?");
  EXPECT_EQ(numbered("SELECT \"oops ?", 0), "SELECT \"oops ?");
}

TEST(NumberPlaceholders, AnIdentifierEndingInEIsNotAnEscapeString) {
  // `name'...'` is not E'...': the backslash is an ordinary character.
  EXPECT_EQ(numbered(R"(SELECT some'\' , ?)", 1), R"(SELECT some'\' , $1)");
}

}  // namespace
}  // namespace tajir::db
