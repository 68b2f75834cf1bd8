// RedisTestServer: a throwaway redis-server for the tests of src/redis/, on a free loopback
// port, persistence off (`--save '' --appendonly no`) unless a test asks for an append-only
// file (to show what a Redis that restarts with its data does). kill() and restart() stop
// and start it on the same port and directory; the destructor kills it and removes the
// directory. `extra`: more redis-server arguments. Tests only; header-only.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "redis/client.h"

namespace tajir::redis {

class RedisTestServer {
 public:
  explicit RedisTestServer(bool append_only = false, std::vector<std::string> extra = {})
      : append_only_(append_only), extra_(std::move(extra)) {
    char tmpl[] = "/tmp/tajir-redis-XXXXXX";
    dir_ = mkdtemp(tmpl);
    port_ = unused_port();
    start();
  }
  ~RedisTestServer() {
    kill();
    std::filesystem::remove_all(dir_);
  }
  RedisTestServer(const RedisTestServer&) = delete;
  RedisTestServer& operator=(const RedisTestServer&) = delete;

  uint16_t port() const { return static_cast<uint16_t>(port_); }
  Endpoint endpoint() const { return {"127.0.0.1", port()}; }
  // A client of it that gives up fast (200 ms) and tries again soon (5-20 ms).
  ClientOptions fast_client() const {
    using std::chrono::milliseconds;
    return {.endpoint = endpoint(),
            .pool_size = 2,
            .connect_timeout = milliseconds(200),
            .command_timeout = milliseconds(200),
            .backoff_min = milliseconds(5),
            .backoff_max = milliseconds(20)};
  }
  std::string url() const { return endpoint().url(); }

  // Starts redis-server and waits (at most 5 s) until it answers PING.
  void start() {
    const std::string port = std::to_string(port_);
    std::vector<std::string> args{"redis-server",
                                  "--port",
                                  port,
                                  "--bind",
                                  "127.0.0.1",
                                  "--dir",
                                  dir_,
                                  "--save",
                                  "",
                                  "--appendonly",
                                  append_only_ ? "yes" : "no",
                                  "--appendfsync",
                                  "always"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      if (freopen("/dev/null", "w", stdout) == nullptr) _exit(126);
      execvp("redis-server", argv.data());
      _exit(127);
    }
    Client probe({.endpoint = endpoint(),
                  .pool_size = 1,
                  .backoff_min = std::chrono::milliseconds(1),
                  .backoff_max = std::chrono::milliseconds(1)});
    for (int i = 0; i < 500; ++i) {
      if (probe.command({"PING"}).ok()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // SIGKILL, and waits for it.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

  static int unused_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
  }

 private:
  bool append_only_;
  std::vector<std::string> extra_;  // more redis-server arguments
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tajir::redis
