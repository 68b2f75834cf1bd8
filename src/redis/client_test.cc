#include "redis/client.h"

#include <gtest/gtest.h>

#include <thread>

#include "redis/test_server.h"
#include "util/blocking.h"

namespace tajir::redis {
namespace {

using std::chrono::milliseconds;

ClientOptions fast(const RedisTestServer& s) { return s.fast_client(); }

// Calls until one succeeds (at most 2 s): past a reconnect's backoff.
Result<Reply> until_ok(Client& c, const Command& cmd) {
  Result<Reply> r = c.command(cmd);
  for (int i = 0; i < 200 && !r.ok(); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    r = c.command(cmd);
  }
  return r;
}

TEST(RedisUrl, ParsesHostAndPort) {
  auto ep = parse_url("redis://10.0.0.5:6380");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->endpoint.host, "10.0.0.5");
  EXPECT_EQ(ep->endpoint.port, 6380);
  auto plain = parse_url("redis://cache.local");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->endpoint.port, 6379);
  for (const char* bad : {"", "http://x:1", "redis://", "redis://h:0", "redis://h:70000",
                          "redis://h:12x", "redis://user@h:1", "redis://h:1/2"}) {
    EXPECT_EQ(parse_url(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(RedisUrl, TakesCredentialsAndNeverShowsThePassword) {
  auto dflt = parse_url("redis://:s3cret@10.0.0.5:6380");
  ASSERT_TRUE(dflt.ok());
  EXPECT_EQ(dflt->username, "");
  EXPECT_EQ(dflt->password, "s3cret");
  EXPECT_EQ(dflt->endpoint.port, 6380);
  auto acl = parse_url("redis://tajir:p%40ss:w@rd@cache.local");  // '@' and ':' in the password
  ASSERT_TRUE(acl.ok());
  EXPECT_EQ(acl->username, "tajir");
  EXPECT_EQ(acl->password, "p@ss:w@rd");
  EXPECT_EQ(acl->endpoint.host, "cache.local");
  auto cluster = parse_url("redis-cluster://tajir:pw@a:7000,b:7001");
  ASSERT_TRUE(cluster.ok());
  EXPECT_EQ(cluster->seeds.size(), 2u);
  EXPECT_EQ(cluster->password, "pw");
  EXPECT_TRUE(parse_url("redis://h:1")->password.empty());
  for (const char* bad : {"redis://:@h:1", "redis://:%4@h:1", "redis://:%zz@h:1",
                          "redis://:hunter2@h:0", "redis://:hunter2@", "rediss://:hunter2@h"}) {
    auto r = parse_url(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message().find("hunter2"), std::string::npos) << r.status().message();
  }
}

// Behind a password (requirepass) or an ACL user, every connection authenticates; without the
// right credentials nothing is read or written, and the error says why.
TEST(RedisClient, AuthenticatesEachConnectionItMakes) {
  RedisTestServer server(
      false, {"--requirepass", "s3cret", "--user", "tajir", "on", ">app-pw", "~*", "&*", "+@all"});
  ClientOptions o = fast(server);
  Client none(o);
  auto r = none.command({"SET", "k", "v"});
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("NOAUTH"), std::string::npos) << r.status().message();
  o.password = "wrong";
  Client wrong(o);
  r = wrong.command({"SET", "k", "v"});
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("AUTH"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("wrong"), std::string::npos) << "the password shown";
  o.password = "s3cret";
  Client right(o);
  ASSERT_TRUE(right.command({"SET", "k", "v"}).ok());
  o.username = "tajir";
  o.password = "app-pw";
  Client user(o);
  auto got = user.command({"GET", "k"});
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->str, "v");
  // A connection made again (after the server restarted) authenticates too.
  server.kill();
  server.start();
  EXPECT_TRUE(until_ok(user, {"PING"}).ok());
}

TEST(RedisScript, NameIsTheSha1OfItsSource) {
  EXPECT_EQ(Script("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Script("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST(RedisClient, CommandsRoundTrip) {
  RedisTestServer server;
  Client c(fast(server));
  ASSERT_TRUE(c.command({"SET", "k", std::string_view("a\0b", 3)}).ok());
  auto got = c.command({"GET", "k"});
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->str, std::string("a\0b", 3));
  EXPECT_TRUE(c.command({"GET", "nothing"})->is_nil());
  EXPECT_EQ(c.command({"INCR", "n"})->integer, 1);
}

TEST(RedisClient, ErrorReplyIsAStatusNotAnException) {
  RedisTestServer server;
  Client c(fast(server));
  ASSERT_TRUE(c.command({"SET", "k", "text"}).ok());
  auto r = c.command({"INCR", "k"});
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("not an integer"), std::string::npos);
  EXPECT_TRUE(c.command({"PING"}).ok());  // the connection is still good
}

TEST(RedisClient, PipelineAnswersEachCommandInOrder) {
  RedisTestServer server;
  Client c(fast(server));
  auto r = c.pipeline({{"SET", "a", "1"}, {"INCR", "a"}, {"HSET", "a", "f", "v"}, {"GET", "a"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[1].integer, 2);
  EXPECT_TRUE((*r)[2].is_error());  // WRONGTYPE: its own reply, the others unaffected
  EXPECT_EQ((*r)[3].str, "2");
}

TEST(RedisClient, EvalShaFallsBackToEvalWhenRedisForgotTheScript) {
  RedisTestServer server;
  Client c(fast(server));
  const Script incr("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  EXPECT_EQ(c.eval(incr, {"n"}, {"2"})->integer, 2);
  ASSERT_TRUE(c.command({"SCRIPT", "FLUSH"}).ok());
  EXPECT_EQ(c.eval(incr, {"n"}, {"3"})->integer, 5);
  // The EVAL loaded it again: EVALSHA alone works.
  std::string sha = incr.sha1();
  EXPECT_EQ(c.command({"EVALSHA", sha, "1", "n", "1"})->integer, 6);
}

TEST(RedisClient, OnAThreadThatMustNotWaitACallThrowsWouldBlockBeforeSending) {
  RedisTestServer server;
  Client c(fast(server));
  {
    util::NonBlockingScope on_loop;
    EXPECT_THROW((void)c.command({"INCR", "n"}), util::WouldBlock);
  }
  EXPECT_EQ(c.command({"INCR", "n"})->integer, 1);  // the first was never sent
}

TEST(RedisClient, KilledServerGivesUnavailableThenReconnects) {
  RedisTestServer server;
  Client c(fast(server));
  ASSERT_TRUE(c.command({"SET", "k", "v"}).ok());
  server.kill();
  auto r = c.command({"GET", "k"});
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(c.stats().connected);
  // While down, calls fail without waiting for a connect (the backoff), and keep failing.
  EXPECT_EQ(c.command({"PING"}).status().code(), StatusCode::kUnavailable);
  server.start();
  ASSERT_TRUE(until_ok(c, {"PING"}).ok());
  EXPECT_TRUE(c.stats().connected);
  EXPECT_GE(c.stats().reconnects, 1u);
  EXPECT_GE(c.stats().errors, 2u);
}

TEST(RedisClient, ACommandThatOutlivesTheTimeoutIsUnavailable) {
  RedisTestServer server;
  Client c(fast(server));
  ASSERT_TRUE(c.command({"PING"}).ok());
  server.pause();  // SIGSTOP: connected, but nothing answers
  auto r = c.command({"PING"});
  server.resume();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(until_ok(c, {"PING"}).ok());
}

TEST(RedisClient, ThePoolBoundsTheConnections) {
  RedisTestServer server;
  ClientOptions o = fast(server);
  o.pool_size = 2;
  o.command_timeout = milliseconds(5000);  // the wait for a free connection too
  Client c(o);
  std::vector<std::jthread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) (void)c.command({"INCR", "n"});
    });
  }
  threads.clear();
  EXPECT_EQ(c.command({"GET", "n"})->str, "300");
  auto clients = c.command({"INFO", "clients"});
  ASSERT_TRUE(clients.ok());
  EXPECT_NE(clients->str.find("connected_clients:2\r"), std::string::npos) << clients->str;
}

}  // namespace
}  // namespace tajir::redis
