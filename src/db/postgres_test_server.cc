#include "db/postgres_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace tajir::db {
namespace {

namespace fs = std::filesystem;

Result<std::string> find_bindir() {
  auto has_tools = [](const fs::path& dir) {
    std::error_code ec;
    return fs::exists(dir / "initdb", ec) && fs::exists(dir / "pg_ctl", ec);
  };
  if (const char* env = std::getenv("TAJIR_PG_BINDIR"); env != nullptr && has_tools(env)) {
    return std::string(env);
  }
  fs::path best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    int version = std::atoi(entry.path().filename().c_str());
    if (version > best_version && has_tools(entry.path() / "bin")) {
      best = entry.path() / "bin";
      best_version = version;
    }
  }
  if (best_version >= 0) return best.string();
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
      if (!dir.empty() && has_tools(dir)) return dir;
    }
  }
  return Status(StatusCode::kUnavailable,
                "PostgreSQL server binaries (initdb, pg_ctl) not found in $TAJIR_PG_BINDIR, "
                "/usr/lib/postgresql/*/bin or PATH; install them with scripts/install-deps.sh");
}

std::string tail_of(const fs::path& file, size_t bytes = 2000) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

// Runs argv in dir (as the postgres user when we are root), output appended to dir/commands.log.
Status run_command(const std::string& dir, std::vector<std::string> argv) {
  if (geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  const std::string log = dir + "/commands.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  std::string command;
  for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
  if (rc != 0) {
    return Status(StatusCode::kUnavailable, "cannot run " + command + ": " + std::strerror(rc));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status(StatusCode::kUnavailable, "`" + command + "` failed; its output:\n" +
                                                tail_of(log) + "\nserver log:\n" +
                                                tail_of(dir + "/server.log"));
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<PostgresTestServer>> PostgresTestServer::start() {
  auto bindir = find_bindir();
  if (!bindir.ok()) return bindir.status();
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/tajir-pg-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status(StatusCode::kUnavailable, "mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  std::unique_ptr<PostgresTestServer> server(new PostgresTestServer(*bindir, pattern));
  const std::string& dir = server->dir_;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr || chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Status(StatusCode::kUnavailable,
                    "running as root, PostgreSQL needs a `postgres` user to own " + dir);
    }
  }
  Status st = run_command(dir, {*bindir + "/initdb", "-D", dir + "/data", "-A", "trust", "-U",
                                "tajir", "-E", "UTF8", "--no-locale", "--no-sync"});
  if (!st.ok()) return st;
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port_ = unused_port();  // if another process takes it first, the next attempt
    st = run_command(dir, {*bindir + "/pg_ctl", "-D", dir + "/data", "-l", dir + "/server.log",
                           "-w", "-t", "60", "-o",
                           "-p " + std::to_string(server->port_) + " -k " + dir +
                               " -c listen_addresses=127.0.0.1 -c fsync=off"
                               " -c synchronous_commit=off -c full_page_writes=off"
                               " -c deadlock_timeout=100ms",
                           "start"});
    if (st.ok()) {
      server->running_ = true;
      return server;
    }
  }
  return st;
}

PostgresTestServer::~PostgresTestServer() {
  if (running_) {
    (void)run_command(dir_,
                      {bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "stop"});
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

int PostgresTestServer::unused_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string PostgresTestServer::url(std::string_view database) const {
  return "postgresql://tajir@127.0.0.1:" + std::to_string(port_) + "/" + std::string(database);
}

Result<std::string> PostgresTestServer::create_database(std::string_view name) {
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return Status(StatusCode::kInvalidArgument, "bad database name: " + std::string(name));
    }
  }
  PGconn* conn = PQconnectdb(url("postgres").c_str());
  Status st;
  if (PQstatus(conn) != CONNECTION_OK) {
    st = Status(StatusCode::kUnavailable, PQerrorMessage(conn));
  } else {
    PGresult* res = PQexec(conn, ("CREATE DATABASE " + std::string(name)).c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      st = Status(StatusCode::kInternal, PQresultErrorMessage(res));
    }
    PQclear(res);
  }
  PQfinish(conn);
  if (!st.ok()) return st;
  return url(name);
}

Result<std::string> SharedPostgresTestServer::new_database(std::string_view prefix) {
  std::lock_guard lock(mu_);
  if (!server_) server_.emplace(PostgresTestServer::start());
  if (!server_->ok()) return server_->status();
  return (**server_)->create_database(std::string(prefix) + std::to_string(++databases_));
}

void SharedPostgresTestServer::stop() {
  std::lock_guard lock(mu_);
  server_.reset();
}

}  // namespace tajir::db
