// Synthetic request streams for tajir-cachesim, its tests and bench/policy_miss_ratios.sh.
//
// Every kind is built on a Zipf(alpha) popularity over `keys` keys; rank r is mapped to a key by
// a seeded random permutation so that popular keys are not simply 0, 1, 2, ... The kinds:
//   zipf   independent Zipf requests (the frequency-friendly baseline);
//   scan   Zipf with bursts of one-hit wonders (keys >= `keys`, each requested once), the pattern
//          that flushes an LRU;
//   loop   Zipf interleaved with a cyclic walk over `loop_keys` keys (by default more than a 10%
//          cache holds), the pattern where LRU and FIFO miss on every loop request;
//   drift  Zipf whose ranking rotates: every `drift_every` requests each key moves one rank
//          up, so keys warm up, peak and then go cold (popularity that drifts);
//   mix    four equal phases over the same keys: zipf, scan, loop, drift.
// With `sizes`, every key gets a fixed size, log-uniform in [64, 65536] bytes.
//
// Output is a pure function of the options (own PRNG and arithmetic, no std distributions), so a
// seed names the same trace on every machine.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tajir::cachesim {

enum class TraceKind { kZipf, kScan, kLoop, kDrift, kMix };

struct GeneratorOptions {
  TraceKind kind = TraceKind::kZipf;
  uint64_t requests = 1'000'000;
  uint64_t keys = 100'000;
  double alpha = 0.9;
  uint64_t seed = 1;
  bool sizes = false;
  // scan: share of requests that belong to scans, and the length of one burst
  // (0 = keys / 10).
  double scan_fraction = 0.2;
  uint64_t scan_length = 0;
  // loop: share of requests that walk the loop, and its length (0 = keys / 5).
  double loop_fraction = 0.3;
  uint64_t loop_keys = 0;
  // drift: requests between one-rank shifts (0 = requests / keys, at least 1: over the whole
  // trace the ranking turns once).
  uint64_t drift_every = 0;
};

struct Request {
  uint64_t key;
  uint32_t size;  // 1 unless GeneratorOptions::sizes
};

// "zipf" -> kZipf, ...; InvalidArgument for an unknown name.
Result<TraceKind> parse_trace_kind(std::string_view name);

// The stream the options describe. InvalidArgument for out-of-range options
// (keys or requests 0, alpha outside (0, 3], fractions outside [0, 1)).
Result<std::vector<Request>> generate_trace(const GeneratorOptions& options);

// Writes one request per line: `key`, or `key,size` when `with_sizes`.
void write_trace(const std::vector<Request>& requests, bool with_sizes, std::ostream& out);

// The size a key gets with GeneratorOptions::sizes.
uint32_t key_size(uint64_t key, uint64_t seed);

}  // namespace tajir::cachesim
