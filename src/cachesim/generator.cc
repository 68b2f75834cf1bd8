#include "cachesim/generator.h"

#include <algorithm>
#include <cmath>

namespace tajir::cachesim {
namespace {

// SplitMix64: tiny, fast and fully specified, so traces do not depend on the standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  uint64_t state_;
};

// Zipf by inversion of a precomputed CDF: exact, and fast enough for millions of keys.
class ZipfSampler {
 public:
  ZipfSampler(uint64_t n, double alpha) : cdf_(n) {
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i)
      cdf_[i] = (sum += std::pow(static_cast<double>(i + 1), -alpha));
    for (double& c : cdf_) c /= sum;
  }
  uint64_t rank(Rng& rng) const {
    const double u = rng.uniform();
    auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return std::min<uint64_t>(it - cdf_.begin(), cdf_.size() - 1);
  }

 private:
  std::vector<double> cdf_;
};

struct Phase {
  TraceKind kind;
  uint64_t requests;
};

}  // namespace

Result<TraceKind> parse_trace_kind(std::string_view name) {
  if (name == "zipf") return TraceKind::kZipf;
  if (name == "scan") return TraceKind::kScan;
  if (name == "loop") return TraceKind::kLoop;
  if (name == "drift") return TraceKind::kDrift;
  if (name == "mix") return TraceKind::kMix;
  return Status(StatusCode::kInvalidArgument,
                "unknown trace kind '" + std::string(name) + "' (want zipf|scan|loop|drift|mix)");
}

uint32_t key_size(uint64_t key, uint64_t seed) {
  Rng rng(key * 0x2545f4914f6cdd1dULL ^ seed);
  // log-uniform in [2^6, 2^16]
  return static_cast<uint32_t>(std::exp2(6.0 + 10.0 * rng.uniform()));
}

Result<std::vector<Request>> generate_trace(const GeneratorOptions& o) {
  if (o.requests == 0 || o.keys == 0) {
    return Status(StatusCode::kInvalidArgument, "requests and keys must be positive");
  }
  if (!(o.alpha > 0 && o.alpha <= 3)) {
    return Status(StatusCode::kInvalidArgument, "alpha must be in (0, 3]");
  }
  if (!(o.scan_fraction >= 0 && o.scan_fraction < 1) ||
      !(o.loop_fraction >= 0 && o.loop_fraction < 1)) {
    return Status(StatusCode::kInvalidArgument, "fractions must be in [0, 1)");
  }
  Rng rng(o.seed);
  std::vector<uint64_t> perm(o.keys);
  for (uint64_t i = 0; i < o.keys; ++i) perm[i] = i;
  for (uint64_t i = o.keys - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
  const ZipfSampler zipf(o.keys, o.alpha);
  const uint64_t scan_length = o.scan_length ? o.scan_length : std::max<uint64_t>(1, o.keys / 10);
  const uint64_t loop_keys =
      std::min(o.keys, o.loop_keys ? o.loop_keys : std::max<uint64_t>(1, o.keys / 5));
  const uint64_t drift_every =
      o.drift_every ? o.drift_every : std::max<uint64_t>(1, o.requests / o.keys);

  std::vector<Phase> phases;
  if (o.kind == TraceKind::kMix) {
    const uint64_t q = o.requests / 4;
    phases = {{TraceKind::kZipf, q},
              {TraceKind::kScan, q},
              {TraceKind::kLoop, q},
              {TraceKind::kDrift, o.requests - 3 * q}};
  } else {
    phases = {{o.kind, o.requests}};
  }

  std::vector<Request> out;
  out.reserve(o.requests);
  uint64_t next_fresh = o.keys;  // one-hit wonders live above the Zipf key range
  uint64_t loop_pos = 0;
  uint64_t scan_left = 0;
  // A burst starts with this probability per request, so that scan_fraction of the requests
  // are scans on average.
  const double burst_start =
      o.scan_fraction / ((1 - o.scan_fraction) * static_cast<double>(scan_length));
  for (const Phase& phase : phases) {
    for (uint64_t i = 0; i < phase.requests; ++i) {
      uint64_t key;
      if (scan_left == 0 && phase.kind == TraceKind::kScan && rng.uniform() < burst_start) {
        scan_left = scan_length;
      }
      if (scan_left > 0) {
        --scan_left;
        key = next_fresh++;
      } else if (phase.kind == TraceKind::kLoop && rng.uniform() < o.loop_fraction) {
        // The loop walks the least popular ranks, so it competes with, not feeds, the Zipf part.
        key = perm[o.keys - loop_keys + loop_pos];
        loop_pos = (loop_pos + 1) % loop_keys;
      } else {
        uint64_t r = zipf.rank(rng);
        if (phase.kind == TraceKind::kDrift) {
          // As i grows the ranking rotates: the key at rank r is the one that had rank r + shift.
          r = (r + out.size() / drift_every) % o.keys;
        }
        key = perm[r];
      }
      out.push_back({key, o.sizes ? key_size(key, o.seed) : 1});
    }
  }
  return out;
}

void write_trace(const std::vector<Request>& requests, bool with_sizes, std::ostream& out) {
  std::string buf;
  buf.reserve(1 << 16);
  for (const Request& r : requests) {
    buf += std::to_string(r.key);
    if (with_sizes) {
      buf += ',';
      buf += std::to_string(r.size);
    }
    buf += '\n';
    if (buf.size() > (1 << 16) - 64) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

}  // namespace tajir::cachesim
