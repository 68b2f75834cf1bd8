// Bélády's MIN: the offline optimum the online policies are measured against.
//
// With the whole future known, the best victim is the entry whose next request lies farthest
// ahead (never requested again counts as infinitely far). On a miss the new entry is inserted
// and, while over capacity, the farthest-next-use entry leaves; that may be the new entry
// itself, which amounts to not caching it (MIN with bypass, still optimal for unit sizes).
//
// Exact for object capacities (every charge 1). With byte capacities and varied sizes the
// optimum is NP-hard; the same farthest-next-use rule is then only a strong heuristic, neither
// a bound nor the optimum, and the simulator says so.
#pragma once

#include <cstdint>
#include <vector>

#include "cachesim/trace.h"

namespace tajir::cachesim {

// For each request i, the index of the next request for the same key, or ids.size() if none.
std::vector<uint64_t> next_use(const std::vector<uint32_t>& ids, uint64_t num_keys);

// Misses of MIN over the trace with the given capacity, in objects (use_bytes false; every
// request charges 1) or in bytes (charge = the request's size).
uint64_t belady_misses(const Trace& trace, const std::vector<uint64_t>& next, uint64_t capacity,
                       bool use_bytes);

}  // namespace tajir::cachesim
