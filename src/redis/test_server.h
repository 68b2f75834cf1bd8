// RedisTestServer: a throwaway redis-server for the tests of src/redis/, on a free loopback
// port, persistence off (`--save '' --appendonly no`) unless a test asks for an append-only
// file (to show what a Redis that restarts with its data does). kill() and restart() stop
// and start it on the same port and directory; the destructor kills it and removes the
// directory. `extra`: more redis-server arguments.
//
// RedisTestCluster: a Redis Cluster of `masters` masters and a replica each (2 * masters
// RedisTestServers with cluster mode on and a node timeout of 1 s, joined by `redis-cli
// --cluster create`); it waits until every node says cluster_state:ok. Tests only;
// header-only.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "redis/client.h"

namespace tajir::redis {

class RedisTestServer {
 public:
  // `port`: 0 for any free one.
  explicit RedisTestServer(bool append_only = false, std::vector<std::string> extra = {},
                           int port = 0)
      : append_only_(append_only), extra_(std::move(extra)) {
    char tmpl[] = "/tmp/tajir-redis-XXXXXX";
    dir_ = mkdtemp(tmpl);
    port_ = port != 0 ? port : unused_port();
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

  // Starts redis-server and waits (at most 5 s) until it answers PING (an error reply, NOAUTH
  // behind a password, is an answer too).
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
      if (auto r = probe.command({"PING"}); r.ok() || r.status().code() == StatusCode::kInternal)
        return;
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

  bool running() const { return pid_ > 0; }
  const std::string& dir() const { return dir_; }

  // A free loopback port (`port` 0: any; else whether that one is free, or 0).
  static int unused_port(int port = 0) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return bound ? ntohs(a.sin_port) : 0;
  }
  // A port for a Cluster node: at most 55535, and free with its bus port (10000 above).
  static int unused_cluster_port() {
    static unsigned next = static_cast<unsigned>(getpid()) * 7919u;
    for (int i = 0; i < 1000; ++i) {
      const int p = 20000 + static_cast<int>(next++ % 30000);
      if (unused_port(p) == p && unused_port(p + 10000) == p + 10000) return p;
    }
    return 0;
  }

 private:
  bool append_only_;
  std::vector<std::string> extra_;  // more redis-server arguments
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

class RedisTestCluster {
 public:
  explicit RedisTestCluster(int masters = 3) {
    std::string create = "redis-cli --cluster create";
    for (int i = 0; i < 2 * masters; ++i) {
      nodes_.push_back(std::make_unique<RedisTestServer>(
          false,
          std::vector<std::string>{"--cluster-enabled", "yes", "--cluster-config-file",
                                   "nodes.conf", "--cluster-node-timeout", "1000"},
          RedisTestServer::unused_cluster_port()));
      create += " 127.0.0.1:" + std::to_string(nodes_.back()->port());
    }
    create += " --cluster-replicas 1 --cluster-yes > " + nodes_.front()->dir() + "/create.log 2>&1";
    if (std::system(create.c_str()) != 0) {
      std::ifstream log(nodes_.front()->dir() + "/create.log");
      std::fprintf(stderr, "redis-cli --cluster create failed: %s\n",
                   std::string(std::istreambuf_iterator<char>(log), {}).c_str());
      return;
    }
    ok_ = wait_ok() && wait_replicated();
    if (!ok_) std::fprintf(stderr, "the cluster never said cluster_state:ok, or never synced\n");
  }
  RedisTestCluster(const RedisTestCluster&) = delete;
  RedisTestCluster& operator=(const RedisTestCluster&) = delete;

  // Whether the cluster was made and every node said cluster_state:ok.
  bool ok() const { return ok_; }
  size_t size() const { return nodes_.size(); }
  RedisTestServer& node(size_t i) { return *nodes_[i]; }

  // A client of it (every node a seed) that gives up fast, as RedisTestServer::fast_client().
  ClientOptions fast_client() const {
    ClientOptions o = nodes_.front()->fast_client();
    o.cluster = true;
    for (const auto& n : nodes_) o.seeds.push_back(n->endpoint());
    return o;
  }
  std::string url() const {
    std::string u = "redis-cluster://";
    for (const auto& n : nodes_) u += n->endpoint().name() + ",";
    u.pop_back();
    return u;
  }

  // One command on node i, by a client of that node alone.
  Result<Reply> on(size_t i, const Command& argv) {
    Client c(nodes_[i]->fast_client());
    return c.command(argv);
  }
  std::string id(size_t i) {
    auto r = on(i, {"CLUSTER", "MYID"});
    return r.ok() ? r->str : "";
  }
  // The node (an index) that is a master serving `slot`, as the first running node answering
  // CLUSTER NODES sees it; size() if none.
  size_t master_of(int slot) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i]->running()) continue;
      auto r = on(i, {"CLUSTER", "NODES"});
      if (!r.ok()) continue;
      std::istringstream lines(r->str);
      for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string id, addr, flags, master, ping, pong, epoch, link, range;
        words >> id >> addr >> flags >> master >> ping >> pong >> epoch >> link;
        if (flags.find("master") == std::string::npos || flags.find("fail") != std::string::npos)
          continue;
        while (words >> range) {
          if (range.starts_with("[")) continue;  // a slot being migrated
          const size_t dash = range.find('-');
          const int from = std::stoi(range.substr(0, dash));
          const int to = dash == std::string::npos ? from : std::stoi(range.substr(dash + 1));
          if (slot < from || slot > to) continue;
          const auto port = static_cast<uint16_t>(std::stoi(addr.substr(addr.find(':') + 1)));
          for (size_t n = 0; n < nodes_.size(); ++n)
            if (nodes_[n]->port() == port) return n;
        }
      }
      return nodes_.size();
    }
    return nodes_.size();
  }
  // Waits (at most `limit`) until every master has a replica in sync (state=online).
  bool wait_replicated(std::chrono::milliseconds limit = std::chrono::milliseconds(20'000)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      bool all = true;
      for (size_t i = 0; i < nodes_.size() && all; ++i) {
        auto r = on(i, {"INFO", "replication"});
        all = r.ok() && (r->str.find("role:master") == std::string::npos ||
                         r->str.find("state=online") != std::string::npos);
      }
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // Waits (at most `limit`) until every running node says cluster_state:ok.
  bool wait_ok(std::chrono::milliseconds limit = std::chrono::milliseconds(20'000)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      bool all = true;
      for (size_t i = 0; i < nodes_.size() && all; ++i) {
        if (!nodes_[i]->running()) continue;
        auto r = on(i, {"CLUSTER", "INFO"});
        all = r.ok() && r->str.find("cluster_state:ok") != std::string::npos;
      }
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  std::vector<std::unique_ptr<RedisTestServer>> nodes_;
  bool ok_ = false;
};

}  // namespace tajir::redis
