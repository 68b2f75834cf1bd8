// Tests of the LRU and FIFO baselines (queue_policies.cc) through the EvictionPolicy interface.
#include <gtest/gtest.h>

#include <array>
#include <memory>

#include "cache/eviction_policy.h"

namespace tajir::cache {
namespace {

std::array<PolicyNode, 8> make_nodes(uint64_t charge = 1) {
  std::array<PolicyNode, 8> nodes{};
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].hash = 1000 + i;
    nodes[i].charge = charge;
  }
  return nodes;
}

TEST(LruPolicyTest, EvictsLeastRecentlyUsed) {
  auto lru = make_eviction_policy("lru", 3);
  ASSERT_NE(lru, nullptr);
  EXPECT_EQ(lru->name(), "lru");
  auto n = make_nodes();
  lru->insert(&n[0]);
  lru->insert(&n[1]);
  lru->insert(&n[2]);
  lru->touch(&n[0]);  // order now, oldest first: 1, 2, 0
  EXPECT_EQ(lru->evict(), &n[1]);
  lru->touch(&n[2]);  // 0, 2
  EXPECT_EQ(lru->evict(), &n[0]);
  EXPECT_EQ(lru->evict(), &n[2]);
  EXPECT_EQ(lru->evict(), nullptr);
  EXPECT_EQ(lru->charge(), 0u);
}

TEST(FifoPolicyTest, EvictsInInsertionOrderIgnoringHits) {
  auto fifo = make_eviction_policy("fifo", 3);
  ASSERT_NE(fifo, nullptr);
  EXPECT_EQ(fifo->name(), "fifo");
  auto n = make_nodes();
  for (int i = 0; i < 3; ++i) fifo->insert(&n[i]);
  fifo->touch(&n[0]);
  fifo->touch(&n[0]);
  EXPECT_EQ(fifo->evict(), &n[0]);
  EXPECT_EQ(fifo->evict(), &n[1]);
  EXPECT_EQ(fifo->evict(), &n[2]);
  EXPECT_EQ(fifo->evict(), nullptr);
}

TEST(QueuePoliciesTest, ChargeAccountingAndCapacity) {
  for (const char* name : {"lru", "fifo"}) {
    SCOPED_TRACE(name);
    auto p = make_eviction_policy(name, 100);
    EXPECT_EQ(p->capacity(), 100u);
    auto n = make_nodes();
    for (size_t i = 0; i < n.size(); ++i) n[i].charge = 10 * (i + 1);  // 10..80
    p->insert(&n[0]);
    p->insert(&n[1]);
    p->insert(&n[2]);
    EXPECT_EQ(p->charge(), 60u);
    p->insert(&n[3]);
    EXPECT_EQ(p->charge(), 100u);
    EXPECT_LE(p->charge(), p->capacity());
    p->insert(&n[4]);  // 150 > 100
    while (p->charge() > p->capacity()) ASSERT_NE(p->evict(), nullptr);
    // Oldest first: 10 + 20 leave (120), then 30 (90).
    EXPECT_EQ(p->charge(), 90u);
    p->set_capacity(50);
    EXPECT_EQ(p->capacity(), 50u);
    EXPECT_EQ(p->charge(), 90u);  // set_capacity() does not evict by itself
    while (p->charge() > p->capacity()) ASSERT_NE(p->evict(), nullptr);
    EXPECT_EQ(p->charge(), 50u);  // only n[4] is left
    EXPECT_EQ(p->evict(), &n[4]);
  }
}

TEST(QueuePoliciesTest, RemoveUnlinksAnywhere) {
  for (const char* name : {"lru", "fifo"}) {
    SCOPED_TRACE(name);
    auto p = make_eviction_policy(name, 10);
    auto n = make_nodes();
    for (int i = 0; i < 5; ++i) p->insert(&n[i]);
    p->remove(&n[0]);  // oldest
    p->remove(&n[4]);  // newest
    p->remove(&n[2]);  // middle
    EXPECT_EQ(p->charge(), 2u);
    EXPECT_EQ(p->evict(), &n[1]);
    EXPECT_EQ(p->evict(), &n[3]);
    EXPECT_EQ(p->evict(), nullptr);
    // A removed node can be tracked again.
    p->insert(&n[0]);
    EXPECT_EQ(p->charge(), 1u);
    EXPECT_EQ(p->evict(), &n[0]);
  }
}

TEST(QueuePoliciesTest, UnknownNameIsNull) { EXPECT_EQ(make_eviction_policy("nope", 10), nullptr); }

}  // namespace
}  // namespace tajir::cache
