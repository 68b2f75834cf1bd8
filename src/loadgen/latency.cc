#include "loadgen/latency.h"

#include <algorithm>

namespace tajir::loadgen {
namespace {
size_t rank(size_t n, double q) {
  return std::min(n - 1, static_cast<size_t>(q * static_cast<double>(n)));
}
}  // namespace

std::string_view class_name(RequestClass c) {
  static constexpr std::array<std::string_view, kNumClasses> kNames = {"hits", "misses", "writes"};
  return kNames[static_cast<size_t>(c)];
}

RequestClass classify(std::string_view method, std::string_view x_cache) {
  if (method != "GET") return RequestClass::kWrite;
  return x_cache == "HIT" ? RequestClass::kHit : RequestClass::kMiss;
}

double percentile_ms(std::vector<uint32_t>& us, double q) {
  if (us.empty()) return 0;
  auto at = us.begin() + static_cast<std::ptrdiff_t>(rank(us.size(), q));
  std::nth_element(us.begin(), at, us.end());
  return *at / 1000.0;
}

Summary summarize(std::vector<uint32_t>& us) {
  Summary s;
  s.count = us.size();
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  auto ms = [&](double q) { return us[rank(us.size(), q)] / 1000.0; };
  s.p50_ms = ms(0.5);
  s.p90_ms = ms(0.9);
  s.p99_ms = ms(0.99);
  s.p999_ms = ms(0.999);
  s.max_ms = us.back() / 1000.0;
  return s;
}

void Latencies::merge(const Latencies& o) {
  for (size_t i = 0; i < kNumClasses; ++i)
    us_[i].insert(us_[i].end(), o.us_[i].begin(), o.us_[i].end());
}

std::vector<uint32_t> Latencies::reads() const {
  std::vector<uint32_t> r = of(RequestClass::kHit);
  const auto& misses = of(RequestClass::kMiss);
  r.insert(r.end(), misses.begin(), misses.end());
  return r;
}

}  // namespace tajir::loadgen
