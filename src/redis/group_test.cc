#include "redis/group.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "redis/test_server.h"

namespace tajir::redis {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kLease{800};

ClientOptions client_of(const RedisTestServer& s) { return s.fast_client(); }

// The database's node_beats table (pos/node_beats.cc), in memory; `down` fails every call.
struct FakeWitness {
  Witness witness() {
    return Witness{.beat =
                       [this](const std::string& node) {
                         std::lock_guard lock(mu);
                         if (down) return false;
                         Beat& b = rows[node];
                         b.node = node;
                         ++b.count;
                         b.resigned = false;
                         return true;
                       },
                   .resign =
                       [this](const std::string& node) {
                         std::lock_guard lock(mu);
                         if (down) return false;
                         if (auto it = rows.find(node); it != rows.end())
                           it->second.resigned = true;
                         return true;
                       },
                   .beats = [this]() -> std::optional<std::vector<Beat>> {
                     std::lock_guard lock(mu);
                     if (down) return std::nullopt;
                     std::vector<Beat> out;
                     for (const auto& [node, b] : rows) out.push_back(b);
                     return out;
                   }};
  }
  void set_down(bool d) {
    std::lock_guard lock(mu);
    down = d;
  }
  Beat row(const std::string& node) {
    std::lock_guard lock(mu);
    return rows[node];
  }
  std::mutex mu;
  std::map<std::string, Beat> rows;  // GUARDED_BY(mu)
  bool down = false;                 // GUARDED_BY(mu)
};

// A node: a Group whose local tier is a record of what it was asked to drop.
struct Node {
  // The first `failing` clears do not finish (as when the database cannot list the shops).
  Node(const RedisTestServer& s, std::string name, int failing = 0, FakeWitness* w = nullptr)
      : Node(client_of(s), std::move(name), failing, w) {}
  Node(const RedisTestServer& s, std::string name, FakeWitness& w)
      : Node(client_of(s), std::move(name), 0, &w) {}
  Node(ClientOptions client, std::string name, int failing = 0, FakeWitness* w = nullptr)
      : failing_clears(failing),
        group(GroupOptions{.client = std::move(client),
                           .node = std::move(name),
                           .lease = kLease,
                           .block = milliseconds(50),
                           .invalidate =
                               [this](const std::vector<std::string>& tags, bool) {
                                 std::lock_guard lock(mu);
                                 dropped.insert(dropped.end(), tags.begin(), tags.end());
                               },
                           .clear_all =
                               [this] {
                                 std::lock_guard lock(mu);
                                 return ++clears > failing_clears;
                               },
                           .witness = w != nullptr ? std::optional(w->witness()) : std::nullopt}) {}
  std::vector<std::string> seen() {
    std::lock_guard lock(mu);
    return dropped;
  }
  int cleared() {
    std::lock_guard lock(mu);
    return clears;
  }
  std::mutex mu;
  std::vector<std::string> dropped;  // GUARDED_BY(mu)
  int clears = 0;                    // GUARDED_BY(mu)
  const int failing_clears;
  Group group;  // last: its thread calls the above
};

bool wait_for(const std::function<bool()>& ok, milliseconds limit = milliseconds(5000)) {
  for (auto end = Clock::now() + limit; Clock::now() < end;) {
    if (ok()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return ok();
}

milliseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t);
}

TEST(GroupTest, AWriteReturnsOnlyOnceEveryOtherNodeDroppedItsTags) {
  RedisTestServer redis;
  Node a(redis, "a"), b(redis, "b"), c(redis, "c");
  ASSERT_TRUE(a.group.stats().serving && b.group.stats().serving && c.group.stats().serving);
  for (int i = 0; i < 50; ++i) {
    const std::string tag = "product:1:" + std::to_string(i);
    EXPECT_TRUE(a.group.publish_and_wait({tag, "plist:1"}, false));
    // Returned: both others have it, not some time later.
    for (Node* other : {&b, &c}) {
      auto seen = other->seen();
      ASSERT_GE(seen.size(), 2u);
      EXPECT_EQ(seen[seen.size() - 2], tag);
      EXPECT_EQ(seen.back(), "plist:1");
    }
  }
  EXPECT_TRUE(a.seen().empty()) << "a writer does not apply its own entries again";
  EXPECT_EQ(a.group.stats().published, 50u);
  EXPECT_EQ(b.group.stats().entries, 50u);
  EXPECT_EQ(b.group.stats().applied, 50u);
  EXPECT_EQ(b.group.stats().live_nodes, 3u);
  EXPECT_EQ(b.group.stats().gaps, 0u);
}

TEST(GroupTest, AWriteWaitsForASilentNodeOnlyUntilItsLeaseEnds) {
  RedisTestServer redis;
  Node a(redis, "a");
  Client cli(client_of(redis));
  // A node that took a lease and then stopped (paused, or dead): it never applies anything.
  auto now = cli.command({"TIME"});
  ASSERT_TRUE(now.ok());
  const int64_t ms =
      std::stoll(now->elements[0].str) * 1000 + std::stoll(now->elements[1].str) / 1000;
  ASSERT_TRUE(cli.command({"ZADD", "{tajir}:nodes", std::to_string(ms + 1000), "ghost"}).ok());
  const auto start = Clock::now();
  EXPECT_TRUE(a.group.publish_and_wait({"shop:1"}, false));
  const milliseconds took = since(start);
  EXPECT_GE(took.count(), 900) << "returned before the silent node's lease ended";
  EXPECT_LE(took.count(), 1600);
  // Once its lease is over, a write does not wait for it at all.
  const auto again = Clock::now();
  EXPECT_TRUE(a.group.publish_and_wait({"shop:1"}, false));
  EXPECT_LT(since(again).count(), 200);
}

TEST(GroupTest, ANodeThatCannotRenewStopsServingAndClearsItsTierWhenItIsBack) {
  RedisTestServer redis;
  Node a(redis, "a");
  ASSERT_TRUE(a.group.stats().serving);
  const Group::Pass pass = a.group.enter();
  ASSERT_TRUE(a.group.still(pass));
  const int clears_before = a.cleared();
  redis.kill();
  const auto killed = Clock::now();
  ASSERT_TRUE(wait_for([&] { return !a.group.still(pass); }));
  EXPECT_LE(since(killed).count(), kLease.count()) << "served past its lease";
  EXPECT_FALSE(a.group.stats().serving);
  EXPECT_FALSE(a.group.enter().open())
      << "a pass taken once the lease ran out by the clock is closed, before the thread "
         "notices (the Redis tier is not read without one either)";
  // A write meanwhile cannot reach the log: it returns a lease (and a tenth) after it began,
  // however long ago the node lost Redis (Redis may be back for the others).
  for (int i = 0; i < 2; ++i) {
    const auto start = Clock::now();
    EXPECT_TRUE(a.group.publish_and_wait({"shop:1"}, false));
    EXPECT_GE(since(start).count(), kLease.count() * 11 / 10);
    EXPECT_LE(since(start).count(), kLease.count() * 11 / 10 + 200);
  }
  EXPECT_EQ(a.group.stats().unpublished, 2u);
  redis.start();
  ASSERT_TRUE(wait_for([&] { return a.group.stats().serving; }));
  EXPECT_FALSE(a.group.still(pass)) << "a pass from before the loss is no good after";
  EXPECT_EQ(a.cleared(), clears_before + 1);
  EXPECT_EQ(a.group.stats().lease_lost, 1u);
}

TEST(GroupTest, ANodeWhoseClearDidNotFinishDoesNotServeUntilOneDoes) {
  RedisTestServer redis;
  Node a(redis, "a", /*failing=*/2);
  EXPECT_FALSE(a.group.stats().serving) << "served after a clear that did not finish";
  EXPECT_FALSE(a.group.enter().open());
  ASSERT_TRUE(wait_for([&] { return a.group.stats().serving; }));
  EXPECT_EQ(a.cleared(), 3) << "serves from the first clear that finished, not before";
  // And it reads the log from where it cleared: another node's write reaches it.
  Node b(redis, "b");
  EXPECT_TRUE(b.group.publish_and_wait({"shop:1"}, false));
  EXPECT_EQ(a.seen(), std::vector<std::string>{"shop:1"});
}

TEST(GroupTest, AfterAnOutageAWriteReachesTheNodesBackOnRedisBeforeItAnswers) {
  RedisTestServer redis;
  // a reconnects lazily (a long backoff, as the default client's); b at once.
  ClientOptions slow = client_of(redis);
  slow.backoff_min = milliseconds(1000);
  slow.backoff_max = milliseconds(4000);
  Node a(slow, "a"), b(redis, "b");
  EXPECT_TRUE(a.group.publish_and_wait({"shop:1"}, false));  // a's writer has a connection to lose
  redis.kill();
  std::this_thread::sleep_for(kLease * 2);  // both lose their leases
  redis.start();
  ASSERT_TRUE(wait_for([&] { return b.group.stats().serving; }));
  // b serves from its local tier again; a write on a must not answer before b dropped it.
  EXPECT_TRUE(a.group.publish_and_wait({"product:1:7"}, false));
  auto seen = b.seen();
  ASSERT_FALSE(seen.empty()) << "a write answered while a node that is back on Redis kept it";
  EXPECT_EQ(seen.back(), "product:1:7");
  EXPECT_EQ(a.group.stats().unpublished, 0u);
}

TEST(GroupTest, AWriteToARedisThatLostItsDataWaitsOutTheOldLeases) {
  RedisTestServer redis;
  Node a(redis, "a");
  Client cli(client_of(redis));
  ASSERT_TRUE(cli.command({"FLUSHALL"}).ok());
  // Nodes that renewed before the flush still think their leases hold, and Redis no longer
  // knows them: the write waits a lease.
  const auto start = Clock::now();
  EXPECT_TRUE(a.group.publish_and_wait({"shop:1"}, false));
  EXPECT_GE(since(start).count(), kLease.count() - 50);
  // Then a's own renewal finds the new epoch and clears its tier.
  ASSERT_TRUE(wait_for([&] { return a.group.stats().lease_lost == 1; }));
}

TEST(GroupTest, AnEntryTheReaderMissedClearsItsTier) {
  RedisTestServer redis;
  Node a(redis, "a"), b(redis, "b");
  EXPECT_TRUE(a.group.publish_and_wait({"shop:1"}, false));
  const int before = b.cleared();
  // An entry whose predecessors were trimmed away before b read them.
  Client cli(client_of(redis));
  ASSERT_TRUE(cli.command({"SET", "{tajir}:seq", "10"}).ok());
  ASSERT_TRUE(
      cli.command({"XADD", "{tajir}:log", "*", "s", "10", "n", "a", "t", "shop:2\n", "c", "0"})
          .ok());
  ASSERT_TRUE(wait_for([&] { return b.group.stats().applied == 10; }));
  EXPECT_EQ(b.cleared(), before + 1);
  EXPECT_EQ(b.group.stats().gaps, 1u);
  // It goes on from there.
  EXPECT_TRUE(a.group.publish_and_wait({"shop:3"}, false));
  EXPECT_EQ(b.seen().back(), "shop:3");
  EXPECT_EQ(b.group.stats().applied, 11u);
}

TEST(GroupTest, ANodeThatCannotClearStillReadsTheLogSoWritesDoNotWaitOnIt) {
  RedisTestServer redis;
  Node a(redis, "a", /*failing=*/1000), b(redis, "b");
  ASSERT_TRUE(b.group.stats().serving);
  EXPECT_FALSE(a.group.stats().serving);
  EXPECT_TRUE(b.group.publish_and_wait({"shop:1"}, false));  // waits out the new epoch's lease
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    EXPECT_TRUE(b.group.publish_and_wait({"product:1:" + std::to_string(i)}, false));
    EXPECT_LT(since(start).count(), kLease.count() / 2) << "waited on a node that serves nothing";
    ASSERT_FALSE(a.seen().empty()) << "the write answered before a applied it";
    EXPECT_EQ(a.seen().back(), "product:1:" + std::to_string(i));
  }
  EXPECT_FALSE(a.group.stats().serving);
  EXPECT_EQ(a.group.stats().lease_lost, 0u) << "never held, so never lost";
}

// The partition: a cannot reach Redis (its own, killed here, stands for a cut link), while b
// reaches the group's and goes on serving what a's write changed. Only the witness tells.
TEST(GroupTest, AWriteCutOffFromRedisIsRefusedWhileAnotherNodeStillBeats) {
  RedisTestServer redis, cut;
  FakeWitness witness;
  Node a(cut, "a", witness), b(redis, "b", witness);
  ASSERT_TRUE(a.group.stats().serving && b.group.stats().serving);
  cut.kill();
  ASSERT_TRUE(wait_for([&] { return !a.group.stats().serving; }));
  const auto start = Clock::now();
  EXPECT_FALSE(a.group.publish_and_wait({"shop:1"}, false))
      << "acknowledged a write that a node still serving locally was never told of";
  EXPECT_GE(since(start).count(), kLease.count() * 5 / 2);
  EXPECT_LE(since(start).count(), kLease.count() * 5 / 2 + 300);
  EXPECT_TRUE(b.group.stats().serving);
  EXPECT_EQ(a.group.stats().refused, 1u);
  EXPECT_EQ(a.group.stats().unpublished, 0u);
  EXPECT_TRUE(witness.row("a").resigned) << "a node whose lease ran out says so";
  // Without the witness the same write answered a lease (and a tenth) after its commit.
}

// Redis gone for everyone: the others' leases run out, they resign, and the write answers as
// soon as the last has (not a fixed wait); a node dead without resigning holds it a lease.
TEST(GroupTest, AWriteCutOffFromRedisAnswersOnceNoOtherNodeServes) {
  RedisTestServer redis;
  FakeWitness witness;
  Node a(redis, "a", witness), b(redis, "b", witness);
  ASSERT_TRUE(a.group.stats().serving && b.group.stats().serving);
  redis.kill();
  const auto start = Clock::now();
  EXPECT_TRUE(a.group.publish_and_wait({"shop:1"}, false));
  EXPECT_FALSE(b.group.stats().serving) << "answered while b could still serve locally";
  EXPECT_LE(since(start).count(), kLease.count() * 3 / 2);
  // b resigns once its lease ran out; on a busy machine its count may have stood still for a
  // lease before (out either way).
  EXPECT_TRUE(wait_for([&] { return witness.row("b").resigned; }, kLease));
  EXPECT_EQ(a.group.stats().unpublished, 1u);
  // A node that beat and then died without resigning: out once its count stood still a lease.
  ASSERT_TRUE(witness.witness().beat("ghost"));
  const auto again = Clock::now();
  EXPECT_TRUE(a.group.publish_and_wait({"shop:1"}, false));
  EXPECT_GE(since(again).count(), kLease.count());
  EXPECT_LE(since(again).count(), kLease.count() * 3 / 2);
}

// A write's tries (its Redis tier's repair, then its entry in the log) end together: what the
// witness showed during the first counts for the second, which does not wait again.
TEST(GroupTest, AWritesTriesToReachRedisEndOnceForAll) {
  RedisTestServer redis, cut;
  FakeWitness witness;
  Node a(redis, "a", witness);
  ASSERT_TRUE(a.group.stats().serving);
  ASSERT_TRUE(witness.witness().beat("ghost"));  // beat once, then died without resigning
  redis.kill();
  auto never = [] { return false; };
  const auto start = Clock::now();
  Group::Tries tries(a.group, start);
  EXPECT_EQ(tries.until(never), Group::Reach::kOthersOut);
  EXPECT_GE(since(start).count(), kLease.count()) << "the ghost's count stood still a lease";
  const auto second = Clock::now();
  EXPECT_TRUE(a.group.publish_and_wait({"shop:1"}, false, tries));
  EXPECT_LT(since(second).count(), kLease.count() / 4) << "waited for the ghost again";

  // Cut off while another node beats: refused once, and the log's try is refused at once.
  Node b(cut, "b", witness);
  ASSERT_TRUE(wait_for([&] { return b.group.stats().serving; }));
  const auto committed = Clock::now();
  Group::Tries refused(a.group, committed);
  EXPECT_EQ(refused.until(never), Group::Reach::kRefused);
  EXPECT_GE(since(committed).count(), kLease.count() * 5 / 2);
  const auto third = Clock::now();
  EXPECT_FALSE(a.group.publish_and_wait({"shop:1"}, false, refused));
  EXPECT_LT(since(third).count(), kLease.count() / 4);
  // Without the witness's say (the log reader's repairs), a lease and a tenth, as before.
  const auto fourth = Clock::now();
  Group::Tries blind(a.group, fourth, /*ask_witness=*/false);
  EXPECT_EQ(blind.until(never), Group::Reach::kOthersOut);
  EXPECT_GE(since(fourth).count(), kLease.count() * 11 / 10);
  EXPECT_LE(since(fourth).count(), kLease.count() * 11 / 10 + 300);
}

TEST(GroupTest, ANodeThatCannotBeatStopsServingAndClearsItsTierWhenItCanAgain) {
  RedisTestServer redis;
  FakeWitness witness;
  Node a(redis, "a", witness);
  ASSERT_TRUE(a.group.stats().serving);
  const int clears_before = a.cleared();
  witness.set_down(true);
  const auto down = Clock::now();
  ASSERT_TRUE(wait_for([&] { return !a.group.stats().serving; }));
  EXPECT_LE(since(down).count(), kLease.count()) << "served past its second lease";
  EXPECT_GT(a.group.stats().beats_missed, 0u);
  // Still on Redis: it reads the log meanwhile, so another node's write does not wait on it.
  Node b(redis, "b");
  const auto start = Clock::now();
  EXPECT_TRUE(b.group.publish_and_wait({"product:1:7"}, false));
  EXPECT_LT(since(start).count(), kLease.count() / 2);
  EXPECT_EQ(a.seen().back(), "product:1:7");
  witness.set_down(false);
  ASSERT_TRUE(wait_for([&] { return a.group.stats().serving; }));
  EXPECT_EQ(a.cleared(), clears_before + 1) << "served again without clearing";
  EXPECT_EQ(a.group.stats().lease_lost, 1u) << "one lapse, counted once";
}

TEST(GroupTest, AStoppedNodeResignsInTheWitness) {
  RedisTestServer redis;
  FakeWitness witness;
  Node a(redis, "a", witness);
  ASSERT_TRUE(a.group.stats().serving);
  EXPECT_GT(witness.row("a").count, 0);
  EXPECT_FALSE(witness.row("a").resigned);
  a.group.stop();
  EXPECT_TRUE(witness.row("a").resigned);
}

TEST(GroupTest, NodesOnAClusterAcknowledgeEachOthersWrites) {
  RedisTestCluster cluster;
  ASSERT_TRUE(cluster.ok());
  Node a(cluster.fast_client(), "a"), b(cluster.fast_client(), "b");
  ASSERT_TRUE(wait_for([&] { return a.group.stats().serving && b.group.stats().serving; }));
  for (int i = 0; i < 20; ++i) {
    const std::string tag = "product:1:" + std::to_string(i);
    Node& writer = i % 2 == 0 ? a : b;
    Node& other = i % 2 == 0 ? b : a;
    EXPECT_TRUE(writer.group.publish_and_wait({tag}, false));
    ASSERT_FALSE(other.seen().empty());
    EXPECT_EQ(other.seen().back(), tag);  // applied before the write returned
  }
  EXPECT_EQ(a.group.stats().published, 10u);
  EXPECT_EQ(b.group.stats().entries, 10u);
  EXPECT_EQ(a.group.stats().unpublished + b.group.stats().unpublished, 0u);
  EXPECT_EQ(a.group.stats().live_nodes, 2u);
}

}  // namespace
}  // namespace tajir::redis
