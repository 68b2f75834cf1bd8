// Fresh, migrated databases for the tests of the layers above db/, one per test:
//
//   TEST(Thing, WorksOnPostgres) {
//     db::test_db::with_postgres("thing", [](db::Database& db) { check_thing(db); });
//   }
//
// with_sqlite() opens a file in a new temporary directory (synchronous=NORMAL: test data need
// not survive a power cut) and removes the directory afterwards. with_postgres() creates a
// database on one PostgresTestServer that the whole test binary shares (started on first use,
// stopped at exit). Either fails the test when the database cannot be had.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "db/database.h"
#include "db/postgres_test_server.h"

namespace tajir::db::test_db {

inline void with_sqlite(const std::string& name, const std::function<void(Database&)>& fn) {
  auto dir =
      std::filesystem::temp_directory_path() / ("tajir-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto db = open("sqlite:" + (dir / (name + ".db")).string(), {.sqlite_synchronous_full = false});
    ASSERT_TRUE(db.ok()) << db.status().message();
    ASSERT_TRUE(migrate(**db).ok());
    fn(**db);
  }
  std::filesystem::remove_all(dir);
}

inline void with_postgres(const std::string& name, const std::function<void(Database&)>& fn) {
  static auto server = PostgresTestServer::start();
  ASSERT_TRUE(server.ok()) << server.status().message();
  auto url = (*server)->create_database(name);
  ASSERT_TRUE(url.ok()) << url.status().message();
  auto db = open(*url);
  ASSERT_TRUE(db.ok()) << db.status().message();
  ASSERT_TRUE(migrate(**db).ok());
  fn(**db);
}

}  // namespace tajir::db::test_db
