#include "cachesim/simulator.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "cache/eviction_policy.h"
#include "cachesim/belady.h"

namespace tajir::cachesim {

Result<std::vector<CapacitySpec>> parse_capacities(std::string_view text) {
  std::vector<CapacitySpec> out;
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    std::string_view item =
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    CapacitySpec spec;
    if (!item.empty() && item.back() == '%') {
      spec.percent = true;
      item.remove_suffix(1);
    }
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), spec.value);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || !(spec.value > 0) ||
        !std::isfinite(spec.value) || (spec.percent && spec.value > 100) ||
        (!spec.percent && spec.value != std::floor(spec.value))) {
      return Status(StatusCode::kInvalidArgument,
                    "bad capacity '" + std::string(text) +
                        "' (want positive integers or percentages up to 100%, comma-separated)");
    }
    out.push_back(spec);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

uint64_t resolve_capacity(const CapacitySpec& spec, const Trace& trace, bool use_bytes) {
  if (!spec.percent) return static_cast<uint64_t>(spec.value);
  const double base = static_cast<double>(use_bytes ? trace.unique_bytes : trace.unique_keys());
  return std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(base * spec.value / 100.0)));
}

Result<uint64_t> simulate(const Trace& trace, std::string_view policy_name, uint64_t capacity,
                          bool use_bytes, const std::vector<uint64_t>* next) {
  if (policy_name == "belady") {
    if (next != nullptr) return belady_misses(trace, *next, capacity, use_bytes);
    const std::vector<uint64_t> own = next_use(trace.ids, trace.unique_keys());
    return belady_misses(trace, own, capacity, use_bytes);
  }
  auto policy = cache::make_eviction_policy(policy_name, capacity);
  if (policy == nullptr) {
    return Status(StatusCode::kInvalidArgument,
                  "unknown policy '" + std::string(policy_name) + "'");
  }
  // Dense key ids stand in for the cache's hash map: one node per key, `resident` says whether
  // the policy tracks it.
  std::vector<cache::PolicyNode> nodes(trace.unique_keys());
  std::vector<uint8_t> resident(trace.unique_keys(), 0);
  uint64_t misses = 0;
  for (uint64_t i = 0; i < trace.requests(); ++i) {
    const uint32_t id = trace.ids[i];
    if (resident[id]) {
      policy->touch(&nodes[id]);
      continue;
    }
    ++misses;
    cache::PolicyNode& node = nodes[id];
    node = cache::PolicyNode{};
    node.hash = trace.hashes[id];
    node.charge = use_bytes ? trace.size_of(i) : 1;
    policy->insert(&node);
    resident[id] = 1;
    while (policy->charge() > policy->capacity()) {
      cache::PolicyNode* victim = policy->evict();
      if (victim == nullptr) break;
      resident[victim - nodes.data()] = 0;
    }
  }
  return misses;
}

std::string csv_row(std::string_view trace, std::string_view policy, uint64_t capacity,
                    uint64_t requests, uint64_t misses) {
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.6f",
                requests == 0 ? 0.0 : static_cast<double>(misses) / static_cast<double>(requests));
  return std::string(trace) + "," + std::string(policy) + "," + std::to_string(capacity) + "," +
         std::to_string(requests) + "," + std::to_string(misses) + "," + ratio;
}

}  // namespace tajir::cachesim
