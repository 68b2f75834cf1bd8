// The nodes' beats (node_beats.cc), redis::Witness's store: counts that only go up, resignation
// undone by the next beat, every node's row seen by any node, on both databases.
#include <gtest/gtest.h>

#include <map>

#include "db/test_databases.h"
#include "pos/pos.h"

namespace tajir::pos {
namespace {

std::map<std::string, Pos::NodeBeat> rows(Pos& pos) {
  auto beats = pos.node_beats();
  EXPECT_TRUE(beats.ok()) << beats.status().message();
  std::map<std::string, Pos::NodeBeat> out;
  if (beats.ok()) {
    for (auto& b : *beats) out[b.node] = b;
  }
  return out;
}

void check_beats(db::Database& db) {
  Pos pos(db, PosOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
  EXPECT_TRUE(rows(pos).empty());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pos.beat_node("a").ok());
  ASSERT_TRUE(pos.beat_node("b").ok());
  auto seen = rows(pos);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen["a"].beats, 3);
  EXPECT_FALSE(seen["a"].resigned);
  EXPECT_EQ(seen["b"].beats, 1);
  ASSERT_TRUE(pos.resign_node("a").ok());
  ASSERT_TRUE(pos.resign_node("nobody").ok()) << "a node that never beat has nothing to resign";
  seen = rows(pos);
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen["a"].resigned);
  EXPECT_EQ(seen["a"].beats, 3) << "resigning is not a beat";
  EXPECT_FALSE(seen["b"].resigned);
  ASSERT_TRUE(pos.beat_node("a").ok());
  seen = rows(pos);
  EXPECT_FALSE(seen["a"].resigned) << "a beat takes the node back";
  EXPECT_EQ(seen["a"].beats, 4);
}

TEST(NodeBeats, Sqlite) { db::test_db::with_sqlite("beats", check_beats); }

TEST(NodeBeats, Postgres) { db::test_db::with_postgres("beats", check_beats); }

}  // namespace
}  // namespace tajir::pos
