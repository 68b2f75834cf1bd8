// The trace-driven simulator behind tajir-cachesim.
//
// The engine's policies run through make_eviction_policy() and the EvictionPolicy interface,
// exactly as a cache shard calls them: a hit touches the key's node; a miss inserts a node with
// the request's charge (1 per object, or its size with byte capacities), then evicts while the
// policy's charge is over its capacity. The miss ratios printed are those of the production
// code. "belady" is the offline optimum (see belady.h), computed here.
//
//   auto trace = load_trace("web07.txt");
//   auto misses = simulate(*trace, "tajir", 200, /*use_bytes=*/false);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cachesim/trace.h"
#include "util/status.h"

namespace tajir::cachesim {

inline constexpr std::string_view kCsvHeader = "trace,policy,capacity,requests,misses,miss_ratio";

// The policies the simulator knows: the engine's (by make_eviction_policy name) and "belady".
inline constexpr std::string_view kAllPolicies[] = {"tajir", "lru", "fifo", "belady"};

// One requested capacity: absolute (objects or bytes), or a percentage of the trace's unique
// keys (unique bytes with byte capacities).
struct CapacitySpec {
  double value = 0;
  bool percent = false;
};

// Parses "1000,1%,2.5%". InvalidArgument on anything else (empty items, zero, negatives).
Result<std::vector<CapacitySpec>> parse_capacities(std::string_view text);

// The capacity a spec means for a trace; a percentage rounds to the nearest unit, at least 1.
uint64_t resolve_capacity(const CapacitySpec& spec, const Trace& trace, bool use_bytes);

// Misses of `policy` over the trace. InvalidArgument for an unknown policy.
// `next` is next_use(trace) and is needed only for "belady" (computed when null).
Result<uint64_t> simulate(const Trace& trace, std::string_view policy, uint64_t capacity,
                          bool use_bytes, const std::vector<uint64_t>* next = nullptr);

// One CSV row (no newline) under kCsvHeader.
std::string csv_row(std::string_view trace, std::string_view policy, uint64_t capacity,
                    uint64_t requests, uint64_t misses);

}  // namespace tajir::cachesim
