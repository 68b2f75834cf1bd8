// Trace: a request stream loaded into memory for the simulator.
//
// A trace file has one request per line, `key` or `key,size`; a key is any string without a
// comma (the real traces use decimal numbers). Loading hashes every key with XXH3-64, the hash
// the engine gives PolicyNode::hash, and numbers distinct keys densely (0, 1, 2, ...) so the
// simulator can keep per-key state in flat arrays instead of a hash map.
//
//   auto trace = load_trace("web07.txt");
//   if (!trace.ok()) { print(trace.status().message()); return 2; }
//   for (uint32_t id : trace->ids) ...
//
// Thread safety: a loaded Trace is immutable and may be read from any number of threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tajir::cachesim {

struct Trace {
  std::string name;                // the file's basename, as the CSV prints it
  std::vector<uint32_t> ids;       // per request: the dense id of its key
  std::vector<uint32_t> sizes;     // per request: its size; empty when the trace has no sizes
  std::vector<uint64_t> hashes;    // per key id: XXH3-64 of the key
  std::vector<uint32_t> key_size;  // per key id: size at its first request (1 without sizes)
  uint64_t unique_bytes = 0;       // sum of key_size

  uint64_t requests() const { return ids.size(); }
  uint64_t unique_keys() const { return hashes.size(); }
  bool has_sizes() const { return !sizes.empty(); }
  uint32_t size_of(uint64_t i) const { return sizes.empty() ? 1 : sizes[i]; }
};

// XXH3-64 of a key: what the engine stores in PolicyNode::hash.
uint64_t hash_key(std::string_view key);

// Parses a whole trace held in memory. `name` is copied into Trace::name.
// Blank lines are skipped; a size that is not a positive integer is an error.
Result<Trace> parse_trace(std::string_view text, std::string name);

// Reads and parses a trace file; the Trace is named after the file's basename.
Result<Trace> load_trace(const std::string& path);

}  // namespace tajir::cachesim
