// redis::Client against a real Redis Cluster (3 masters, a replica each): routing by slot,
// pipelines across masters, -MOVED and -ASK during a slot's migration, a master killed and its
// replica promoted, WAIT for durable calls.
#include <gtest/gtest.h>

#include <thread>

#include "redis/client.h"
#include "redis/test_server.h"

namespace tajir::redis {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string shop_key(int shop, std::string_view what) {
  return "{s" + std::to_string(shop) + "}:" + std::string(what);
}

// Calls until one succeeds (at most `limit`).
Result<Reply> until_ok(Client& c, const Command& cmd, milliseconds limit = milliseconds(20'000),
                       bool durable = false) {
  Result<Reply> r = c.command(cmd, durable);
  for (auto end = Clock::now() + limit; !r.ok() && Clock::now() < end;) {
    std::this_thread::sleep_for(milliseconds(20));
    r = c.command(cmd, durable);
  }
  return r;
}

// Writes `value` under `key` durably (just after the start a replica may still be catching
// up: retried for 5 s); the index of the key's master.
size_t write_durably(RedisTestCluster& cluster, Client& c, const std::string& key,
                     std::string_view value) {
  auto first = until_ok(c, {"SET", key, value}, milliseconds(5000), /*durable=*/true);
  EXPECT_TRUE(first.ok()) << first.status().message();
  const size_t m = cluster.master_of(key_slot(key));
  EXPECT_LT(m, cluster.size());
  return m;
}

// The replica (an index) of the master at index m.
size_t replica_of(RedisTestCluster& cluster, size_t m) {
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (i == m) continue;
    auto role = cluster.on(i, {"ROLE"});
    if (role.ok() && role->elements.size() >= 3 && role->elements[0].str == "slave" &&
        role->elements[2].integer == cluster.node(m).port())
      return i;
  }
  return cluster.size();
}

TEST(RedisSlot, IsWhatClusterKeyslotAnswers) {
  // Answers of `redis-cli CLUSTER KEYSLOT` (Redis 7.0.15).
  const std::vector<std::pair<std::string, uint16_t>> known = {
      {"foo", 12182},          {"{s42}:gen", 7704},
      {"{s1}:inv", 15224},     {"{tajir}:log", 2091},
      {"bar{}", 16328},        {"{}bar", 6479},
      {"a{b}c{d}", 3300},      {"{user1000}.following", 3443},
      {"foo{}{bar}", 8363},    {"foo{{bar}}zap", 4015},
      {"foo{bar}{zap}", 5061}, {"123456789", 12739}};
  for (const auto& [key, slot] : known) EXPECT_EQ(key_slot(key), slot) << key;
  EXPECT_EQ(key_slot("{s42}:v:anything"), key_slot("{s42}:tv:tag"));
}

TEST(RedisUrl, ParsesAClusterSeedList) {
  auto o = parse_url("redis-cluster://10.0.0.1:7000,10.0.0.2,cache.local:7002");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_TRUE(o->cluster);
  ASSERT_EQ(o->seeds.size(), 3u);
  EXPECT_EQ(o->seeds[0], (Endpoint{"10.0.0.1", 7000}));
  EXPECT_EQ(o->seeds[1], (Endpoint{"10.0.0.2", 6379}));
  EXPECT_EQ(o->seeds[2], (Endpoint{"cache.local", 7002}));
  EXPECT_EQ(o->endpoint, o->seeds[0]);
  auto single = parse_url("redis://h:1");
  ASSERT_TRUE(single.ok());
  EXPECT_FALSE(single->cluster);
  EXPECT_TRUE(single->seeds.empty());
  for (const char* bad :
       {"redis-cluster://", "redis-cluster://a:1,", "redis-cluster://,a:1",
        "redis-cluster://a:1,b:0", "redis://a:1,b:2", "rediss://a:1", "redis-sentinel://a:1"}) {
    EXPECT_EQ(parse_url(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

class RedisCluster : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster.ok()) << "the cluster did not start"; }
  RedisTestCluster cluster;
};

TEST_F(RedisCluster, KeysOfManyShopsGoToTheirMasters) {
  Client c(cluster.fast_client());
  for (int s = 0; s < 200; ++s) {
    auto r = c.command({"SET", shop_key(s, "k"), std::to_string(s)});
    ASSERT_TRUE(r.ok()) << s << ": " << r.status().message();
  }
  EXPECT_EQ(c.stats().redirects, 0u);  // the table was right
  for (int s = 0; s < 200; ++s)
    EXPECT_EQ(c.command({"GET", shop_key(s, "k")})->str, std::to_string(s));
  EXPECT_TRUE(c.stats().cluster);
  EXPECT_EQ(c.stats().masters, 3u);
  auto sizes = c.on_every_master({"DBSIZE"});
  ASSERT_TRUE(sizes.ok()) << sizes.status().message();
  ASSERT_EQ(sizes->size(), 3u);
  int64_t total = 0;
  for (const Reply& r : *sizes) {
    EXPECT_GT(r.integer, 0) << "every master has some of the shops";
    total += r.integer;
  }
  EXPECT_EQ(total, 200);
}

TEST_F(RedisCluster, APipelineAcrossSlotsAnswersInOrder) {
  Client c(cluster.fast_client());
  std::vector<std::string> keys, amounts;  // a Command only views them
  for (int s = 0; s < 30; ++s) {
    keys.push_back(shop_key(s, "n"));
    amounts.push_back(std::to_string(s + 1));
  }
  std::vector<Command> commands;
  for (size_t s = 0; s < 30; ++s) commands.push_back({"INCRBY", keys[s], amounts[s]});
  commands.push_back({"PING"});
  auto r = c.pipeline(commands);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 31u);
  for (int s = 0; s < 30; ++s) EXPECT_EQ((*r)[static_cast<size_t>(s)].integer, s + 1);
  EXPECT_EQ(r->back().str, "PONG");
  // Scripts too, each by its first key, re-sent by EVAL on the masters that lack them.
  const Script get("return redis.call('GET', KEYS[1])");
  std::vector<Client::Eval> evals;
  for (int s = 29; s >= 0; --s) evals.push_back({&get, {keys[static_cast<size_t>(s)]}, {}});
  auto e = c.eval_pipeline(evals);
  ASSERT_TRUE(e.ok()) << e.status().message();
  for (int s = 29, i = 0; s >= 0; --s, ++i)
    EXPECT_EQ((*e)[static_cast<size_t>(i)].str, std::to_string(s + 1));
}

TEST_F(RedisCluster, KeysOfOneCallInTwoSlotsAreRefused) {
  Client c(cluster.fast_client());
  const Script two("return 1");
  ASSERT_NE(key_slot("{s1}"), key_slot("{s2}"));
  EXPECT_EQ(c.eval(two, {"{s1}:a", "{s2}:a"}, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.eval(two, {"{s1}:a", "{s1}:b"}, {})->integer, 1);
}

TEST_F(RedisCluster, ASlotMovedDuringAndAfterItsMigrationIsFollowed) {
  Client c(cluster.fast_client());
  const std::string old_key = shop_key(7, "old"), new_key = shop_key(7, "new");
  const int slot = key_slot(old_key);
  ASSERT_TRUE(c.command({"SET", old_key, "1"}).ok());
  const size_t from = cluster.master_of(slot);
  size_t to = cluster.size();
  for (int s : {0, 8000, 16000})
    if (size_t m = cluster.master_of(s); m != from && m < cluster.size()) to = m;
  ASSERT_LT(from, cluster.size());
  ASSERT_LT(to, cluster.size());
  const std::string slot_text = std::to_string(slot);
  ASSERT_TRUE(
      cluster.on(to, {"CLUSTER", "SETSLOT", slot_text, "IMPORTING", cluster.id(from)}).ok());
  ASSERT_TRUE(
      cluster.on(from, {"CLUSTER", "SETSLOT", slot_text, "MIGRATING", cluster.id(to)}).ok());
  // Migrating: a key the old master lacks is on the new one (-ASK), one it has stays there.
  auto set = c.command({"SET", new_key, "2"});
  ASSERT_TRUE(set.ok()) << set.status().message();
  auto asked = c.command({"GET", new_key});
  ASSERT_TRUE(asked.ok()) << asked.status().message();
  EXPECT_EQ(asked->str, "2");
  auto kept = c.command({"GET", old_key});
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_EQ(kept->str, "1");
  // Asked alone, the old master does not have it: it sends the caller on.
  EXPECT_TRUE(cluster.on(from, {"GET", new_key}).status().message().starts_with("redis: ASK "));
  // A script whose keys the migration splits cannot run anywhere (-TRYAGAIN): unavailable,
  // after a few tries, never a wrong answer.
  const Script both("return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}");
  EXPECT_EQ(c.eval(both, {old_key, new_key}, {}).status().code(), StatusCode::kUnavailable);
  const std::string port = std::to_string(cluster.node(to).port());
  ASSERT_TRUE(
      cluster.on(from, {"MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS", old_key}).ok());
  for (size_t m : {to, from})
    ASSERT_TRUE(cluster.on(m, {"CLUSTER", "SETSLOT", slot_text, "NODE", cluster.id(to)}).ok());
  // Moved for good: the old master answers -MOVED, the table is read again.
  auto got = c.command({"GET", old_key});
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->str, "1");
  auto r = c.eval(both, {old_key, new_key}, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->elements[0].str, "1");
  EXPECT_EQ(r->elements[1].str, "2");
  EXPECT_EQ(cluster.master_of(slot), to);
  EXPECT_GE(c.stats().redirects, 3u);  // two -ASK, at least one -MOVED
}

TEST_F(RedisCluster, ADurableWriteThatNoReplicaAcknowledgedFails) {
  Client c(cluster.fast_client());
  const std::string key = shop_key(3, "k");
  const size_t m = write_durably(cluster, c, key, "1");
  ASSERT_LT(m, cluster.size());
  const size_t replica = replica_of(cluster, m);
  ASSERT_LT(replica, cluster.size());
  cluster.node(replica).pause();
  auto lost = c.command({"SET", key, "2"}, /*durable=*/true);
  auto plain = c.command({"SET", key, "3"});  // not durable: not waited for
  cluster.node(replica).resume();
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(lost.status().message().find("WAIT"), std::string::npos) << lost.status().message();
  EXPECT_TRUE(plain.ok());
  EXPECT_TRUE(until_ok(c, {"SET", key, "4"}, milliseconds(5000), /*durable=*/true).ok());
}

TEST_F(RedisCluster, AKilledMasterFailsFastThenItsReplicaServes) {
  Client c(cluster.fast_client());
  const std::string key = shop_key(9, "k");
  const size_t m = write_durably(cluster, c, key, "v");
  ASSERT_LT(m, cluster.size());
  std::vector<std::string> elsewhere;  // keys of the other masters
  for (int s = 0; s < 50; ++s)
    if (cluster.master_of(key_slot(shop_key(s, "k"))) != m) elsewhere.push_back(shop_key(s, "k"));
  cluster.node(m).kill();
  const auto killed = Clock::now();
  auto r = c.command({"GET", key});
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_LT(Clock::now() - killed, milliseconds(500)) << "fails fast";
  // Other masters' keys are still served, until the cluster sees the master failed (1 s).
  ASSERT_FALSE(elsewhere.empty());
  for (const std::string& k : elsewhere) {
    if (Clock::now() - killed > milliseconds(700)) break;
    EXPECT_TRUE(c.command({"SET", k, "x"}).ok()) << k;
  }
  auto back = until_ok(c, {"GET", key});
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->str, "v") << "the durable write was on the replica";
  std::printf("failover: served again %lld ms after the master was killed\n",
              static_cast<long long>(
                  std::chrono::duration_cast<milliseconds>(Clock::now() - killed).count()));
  std::fflush(stdout);  // before a fork (start()) copies the buffer
  // Its new master has no replica online: a durable write is not waited for.
  EXPECT_TRUE(until_ok(c, {"SET", key, "w"}, milliseconds(5000), /*durable=*/true).ok());
  cluster.node(m).start();  // comes back as a replica of the new master
  EXPECT_TRUE(cluster.wait_ok());
  EXPECT_EQ(until_ok(c, {"GET", key})->str, "w");
}

}  // namespace
}  // namespace tajir::redis
