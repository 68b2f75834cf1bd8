#include "loadgen/nodes.h"

#include <gtest/gtest.h>

#include <map>

namespace tajir::loadgen {
namespace {

TEST(Nodes, ParsesOneUrlOrACommaList) {
  std::vector<Endpoint> nodes;
  ASSERT_TRUE(add_urls("http://127.0.0.1:8080", nodes).ok());
  ASSERT_TRUE(add_urls("http://127.0.0.1:8081/,http://localhost:9000", nodes).ok());
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0], (Endpoint{"127.0.0.1", 8080}));
  EXPECT_EQ(nodes[1], (Endpoint{"127.0.0.1", 8081}));
  EXPECT_EQ(nodes[2], (Endpoint{"localhost", 9000}));
  EXPECT_EQ(nodes[2].url(), "http://localhost:9000");
}

TEST(Nodes, RejectsWhatIsNotHttpHostPort) {
  for (std::string_view bad : {"127.0.0.1:8080", "https://h:1", "http://h", "http://:80",
                               "http://h:0", "http://h:70000", "http://h:8o", "http://h:1,"}) {
    std::vector<Endpoint> nodes;
    EXPECT_FALSE(add_urls(bad, nodes).ok()) << bad;
  }
}

TEST(Nodes, TillsAreSpreadRoundRobinSoEachNodeGetsItsShare) {
  std::map<size_t, int> tills_per_node;
  for (size_t till = 0; till < 16; ++till) ++tills_per_node[node_of_till(till, 3)];
  EXPECT_EQ(tills_per_node, (std::map<size_t, int>{{0, 6}, {1, 5}, {2, 5}}));
  EXPECT_EQ(node_of_till(0, 2), 0u);
  EXPECT_EQ(node_of_till(1, 2), 1u);
  EXPECT_EQ(node_of_till(2, 2), 0u);
  for (size_t till = 0; till < 5; ++till) EXPECT_EQ(node_of_till(till, 1), 0u);
}

TEST(Nodes, OneServerNamedTwiceIsOneDistinctNode) {
  std::vector<Endpoint> nodes;
  ASSERT_TRUE(add_urls("http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:1", nodes).ok());
  EXPECT_EQ(distinct(nodes), (std::vector<Endpoint>{{"127.0.0.1", 1}, {"127.0.0.1", 2}}));
}

}  // namespace
}  // namespace tajir::loadgen
