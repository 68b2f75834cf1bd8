// PostgresTestServer: a throwaway PostgreSQL cluster for tests, started from the server
// binaries installed on the machine (scripts/install-deps.sh installs them).
//
//   auto server = PostgresTestServer::start();
//   ASSERT_TRUE(server.ok()) << server.status().message();
//   auto url = (*server)->create_database("orders_test");  // postgresql://tajir@127.0.0.1:PORT/..
//
// start() runs initdb into a fresh temporary directory (trust authentication, superuser
// "tajir") and `pg_ctl start` on a free loopback port with the socket in that directory, fsync
// off (test data need not survive a power cut) and deadlock_timeout 100 ms (tests make some); the
// destructor stops the server
// (`pg_ctl -m fast stop`) and removes the directory. PostgreSQL refuses to run as root, so as
// root the commands run as the `postgres` user (runuser) in a directory it owns. Binaries are
// looked up in $TAJIR_PG_BINDIR, then the newest /usr/lib/postgresql/*/bin, then PATH; when
// there are none, start() says so (tests should fail, not skip: CI must run them).
//
// Starting takes a second or two, so start one per test binary and a database per test.
// A process that dies without running the destructor leaves the server running.
//
// Thread safety: create_database() may be called from any thread; start() and the
// destructor from one.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace tajir::db {

class PostgresTestServer {
 public:
  static Result<std::unique_ptr<PostgresTestServer>> start();
  ~PostgresTestServer();
  PostgresTestServer(const PostgresTestServer&) = delete;
  PostgresTestServer& operator=(const PostgresTestServer&) = delete;

  // Creates an empty database and returns its URL. REQUIRES: name is [a-z0-9_]+, not yet used.
  Result<std::string> create_database(std::string_view name);

  // The URL of a database on this server (user tajir, no password).
  std::string url(std::string_view database) const;
  int port() const { return port_; }

  // A loopback TCP port nothing listens on at the moment of the call (another process may take
  // it before the caller does).
  static int unused_port();

 private:
  PostgresTestServer(std::string bindir, std::string dir) : bindir_(bindir), dir_(dir) {}

  std::string bindir_;
  std::string dir_;  // temporary; the cluster is in dir_/data, the socket in dir_
  int port_ = 0;
  bool running_ = false;
};

// One server for a test binary: started by the first new_database(), stopped by stop() (a
// global test environment's TearDown) or at exit. Thread-safe.
class SharedPostgresTestServer {
 public:
  // A fresh database named `prefix` and a number.
  Result<std::string> new_database(std::string_view prefix);
  void stop();

 private:
  std::mutex mu_;
  std::optional<Result<std::unique_ptr<PostgresTestServer>>> server_;  // GUARDED_BY(mu_)
  int databases_ = 0;                                                  // GUARDED_BY(mu_)
};

}  // namespace tajir::db
