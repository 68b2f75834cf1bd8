#include "db/sqlite/sqlite_database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace tajir::db {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tajir-sqlite-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(SqliteTest, DataSurvivesReopening) {
  const std::string url = "sqlite://" + (dir_ / "tajir.db").string();
  {
    auto db = open(url);  // synchronous=FULL, the default
    ASSERT_TRUE(db.ok()) << db.status().message();
    ASSERT_TRUE(migrate(**db).ok());
    Status st = (*db)->write([](Transaction& tx) {
      return tx.execute("INSERT INTO shops(name, created_at) VALUES (?, ?)", {"Kept", int64_t{1}})
          .status();
    });
    ASSERT_TRUE(st.ok()) << st.message();
  }
  EXPECT_TRUE(fs::exists(dir_ / "tajir.db"));
  auto db = open(url);
  ASSERT_TRUE(db.ok()) << db.status().message();
  ASSERT_TRUE(migrate(**db).ok());
  std::string name;
  Status st = (*db)->read([&](Transaction& tx) -> Status {
    auto rows = tx.query("SELECT name FROM shops");
    if (!rows.ok()) return rows.status();
    if (rows->size() != 1) return Status(StatusCode::kNotFound, "expected one shop");
    name = (*rows)[0].text(0);
    return OkStatus();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(name, "Kept");
}

TEST_F(SqliteTest, MissingDirectoryIsUnavailableAndSaysSo) {
  auto db = open("sqlite:" + (dir_ / "no" / "such" / "tajir.db").string());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(db.status().message(), HasSubstr("must exist"));
}

TEST_F(SqliteTest, DeletedIdsAreNotHandedOutAgain) {
  auto db = open("sqlite:" + (dir_ / "tajir.db").string());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(migrate(**db).ok());
  auto insert = [&] {
    int64_t id = 0;
    EXPECT_TRUE((*db)
                    ->write([&](Transaction& tx) -> Status {
                      auto rows = tx.query(
                          "INSERT INTO shops(name, created_at) VALUES ('s', 0) RETURNING id");
                      if (!rows.ok()) return rows.status();
                      id = (*rows)[0].integer(0);
                      return tx.execute("DELETE FROM shops WHERE id = ?", {id}).status();
                    })
                    .ok());
    return id;
  };
  int64_t first = insert();
  EXPECT_GT(insert(), first);
}

int64_t count_shops(Database& db) {
  int64_t n = -1;
  Status st = db.read([&](Transaction& tx) -> Status {
    auto rows = tx.query("SELECT COUNT(*) FROM shops");
    if (!rows.ok()) return rows.status();
    n = (*rows)[0].integer(0);
    return OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  return n;
}

// max_page_count is SQLite's own full disk: past it, the file cannot grow (SQLITE_FULL).
TEST_F(SqliteTest, AFullDiskIsStorageFullChangesNothingAndPassesWhenThereIsRoom) {
  auto db = open("sqlite:" + (dir_ / "tajir.db").string());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(migrate(**db).ok());
  auto insert_many = [&](std::string_view limit) {
    return (*db)->write([&](Transaction& tx) -> Status {
      auto set = tx.query("PRAGMA max_page_count = " + std::string(limit));
      if (!set.ok()) return set.status();
      for (int i = 0; i < 200; ++i) {
        auto rows = tx.execute("INSERT INTO shops(name, created_at) VALUES (?, 0)",
                               {std::string(1000, 'x')});
        if (!rows.ok()) return rows.status();
      }
      return OkStatus();
    });
  };
  auto pages = [&] {
    int64_t n = 0;
    EXPECT_TRUE((*db)
                    ->read([&](Transaction& tx) -> Status {
                      auto rows = tx.query("PRAGMA page_count");
                      if (!rows.ok()) return rows.status();
                      n = (*rows)[0].integer(0);
                      return OkStatus();
                    })
                    .ok());
    return n;
  };
  Status st = insert_many(std::to_string(pages() + 2));
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.message();
  EXPECT_EQ(st.reason(), "storage_full");
  EXPECT_EQ(count_shops(**db), 0);
  st = insert_many("1000000000");
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(count_shops(**db), 200);
}

// query_only on the writer stands for a file that opened read-only: the write is refused as
// database_read_only, and the next write opens the file again (writable, here) and succeeds.
TEST_F(SqliteTest, AWriterRefusedAsReadOnlyIsOpenedAgain) {
  auto db = open("sqlite:" + (dir_ / "tajir.db").string());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(migrate(**db).ok());
  const char* kInsert = "INSERT INTO shops(name, created_at) VALUES ('s', 0)";
  Status st = (*db)->write([&](Transaction& tx) -> Status {
    if (auto set = tx.execute("PRAGMA query_only = ON"); !set.ok()) return set.status();
    return tx.execute(kInsert).status();
  });
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.message();
  EXPECT_EQ(st.reason(), "database_read_only");
  st = (*db)->write([&](Transaction& tx) { return tx.execute(kInsert).status(); });
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(count_shops(**db), 1);
}

// Two Database objects on one file stand for two processes: their writers queue on the file's
// write lock (busy_timeout) instead of failing.
TEST_F(SqliteTest, TwoHandlesOnOneFileBothWrite) {
  const std::string url = "sqlite:" + (dir_ / "tajir.db").string();
  Options options;
  options.sqlite_synchronous_full = false;
  auto a = open(url, options);
  auto b = open(url, options);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(migrate(**a).ok());
  ASSERT_TRUE(
      (*a)->write([](Transaction& tx) {
            return tx.execute("INSERT INTO shops(name, created_at) VALUES ('s', 0)").status();
          })
          .ok());
  auto work = [&](Database& db) {
    for (int i = 0; i < 50; ++i) {
      Status st = db.write([](Transaction& tx) {
        return tx.execute("UPDATE shops SET bill_seq = bill_seq + 1").status();
      });
      EXPECT_TRUE(st.ok()) << st.message();
    }
  };
  std::thread ta([&] { work(**a); });
  std::thread tb([&] { work(**b); });
  ta.join();
  tb.join();
  int64_t seq = 0;
  ASSERT_TRUE((*b)->read([&](Transaction& tx) -> Status {
                    auto rows = tx.query("SELECT bill_seq FROM shops");
                    if (!rows.ok()) return rows.status();
                    seq = (*rows)[0].integer(0);
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(seq, 100);
}

}  // namespace
}  // namespace tajir::db
