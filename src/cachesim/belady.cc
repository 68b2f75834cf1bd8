#include "cachesim/belady.h"

#include <queue>
#include <utility>

namespace tajir::cachesim {

std::vector<uint64_t> next_use(const std::vector<uint32_t>& ids, uint64_t num_keys) {
  std::vector<uint64_t> next(ids.size());
  std::vector<uint64_t> seen(num_keys, ids.size());
  for (uint64_t i = ids.size(); i-- > 0;) {
    next[i] = seen[ids[i]];
    seen[ids[i]] = i;
  }
  return next;
}

uint64_t belady_misses(const Trace& trace, const std::vector<uint64_t>& next, uint64_t capacity,
                       bool use_bytes) {
  // A max-heap of (next use, key) with lazy deletion: an entry is live only while it matches
  // the key's current next use in `resident_next`.
  constexpr uint64_t kAbsent = UINT64_MAX;
  std::vector<uint64_t> resident_next(trace.unique_keys(), kAbsent);
  std::vector<uint32_t> resident_charge(trace.unique_keys(), 0);
  std::priority_queue<std::pair<uint64_t, uint32_t>> heap;
  uint64_t used = 0;
  uint64_t misses = 0;
  for (uint64_t i = 0; i < trace.requests(); ++i) {
    const uint32_t id = trace.ids[i];
    if (resident_next[id] != kAbsent) {
      resident_next[id] = next[i];
      heap.emplace(next[i], id);
      continue;
    }
    ++misses;
    const uint32_t charge = use_bytes ? trace.size_of(i) : 1;
    resident_next[id] = next[i];
    resident_charge[id] = charge;
    used += charge;
    heap.emplace(next[i], id);
    while (used > capacity) {
      auto [when, victim] = heap.top();
      heap.pop();
      if (resident_next[victim] != when) continue;  // stale
      resident_next[victim] = kAbsent;
      used -= resident_charge[victim];
    }
  }
  return misses;
}

}  // namespace tajir::cachesim
