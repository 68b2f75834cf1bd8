// The nodes tajir-loadgen sends to, and which till goes to which.
//
//   std::vector<Endpoint> nodes;
//   Status s = add_urls("http://127.0.0.1:8080,http://127.0.0.1:8081", nodes);  // or one a flag
//   const Endpoint& mine = nodes[node_of_till(till, nodes.size())];
//
// Tills are spread round-robin: till i sends every request to node i mod n, so n nodes each get
// an equal share of the tills (one more for the first ones when n does not divide the count).
// What a till reads is checked against every write acknowledged before the read began on any
// node (the oracle is one for the run): a node that serves a value another node's write has
// changed counts as a stale read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tajir::loadgen {

struct Endpoint {
  std::string host;
  uint16_t port = 0;

  std::string url() const { return "http://" + host + ":" + std::to_string(port); }
  bool operator==(const Endpoint&) const = default;
};

// "http://HOST:PORT" (a trailing "/" allowed); anything else is an invalid argument.
Result<Endpoint> parse_url(std::string_view url);

// Appends the comma-separated URLs of `list` to `out`.
Status add_urls(std::string_view list, std::vector<Endpoint>& out);

// The node that till `till` (0-based) sends to. REQUIRES: nodes > 0.
inline size_t node_of_till(size_t till, size_t nodes) { return till % nodes; }

// The nodes without repeats, in first-seen order: one server named twice counts once (its
// /metrics, for instance, is read once).
std::vector<Endpoint> distinct(const std::vector<Endpoint>& nodes);

}  // namespace tajir::loadgen
