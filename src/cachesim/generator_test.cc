// Tests of the synthetic trace generator.
#include "cachesim/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace tajir::cachesim {
namespace {

std::vector<Request> generate(const GeneratorOptions& o) {
  auto r = generate_trace(o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(r).value();
}

bool same(const std::vector<Request>& a, const std::vector<Request>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].key != b[i].key || a[i].size != b[i].size) return false;
  }
  return true;
}

TEST(GeneratorTest, DeterministicForASeed) {
  for (TraceKind kind :
       {TraceKind::kZipf, TraceKind::kScan, TraceKind::kLoop, TraceKind::kDrift, TraceKind::kMix}) {
    GeneratorOptions o;
    o.kind = kind;
    o.requests = 20'000;
    o.keys = 2'000;
    o.seed = 42;
    o.sizes = true;
    EXPECT_TRUE(same(generate(o), generate(o)));
    GeneratorOptions other = o;
    other.seed = 43;
    EXPECT_FALSE(same(generate(o), generate(other)));
  }
}

TEST(GeneratorTest, ZipfSkew) {
  GeneratorOptions o;
  o.requests = 200'000;
  o.keys = 1'000;
  o.alpha = 1.0;
  std::unordered_map<uint64_t, uint64_t> freq;
  for (const Request& r : generate(o)) ++freq[r.key];
  uint64_t top = 0;
  for (auto& [k, f] : freq) top = std::max(top, f);
  // The most popular key gets 1 / H(1000, 1) = 1 / 7.485 of the requests.
  const double expected = 1.0 / 7.4855;
  EXPECT_NEAR(static_cast<double>(top) / o.requests, expected, 0.01);
  // And skew grows with alpha.
  o.alpha = 0.7;
  freq.clear();
  uint64_t top_flat = 0;
  for (const Request& r : generate(o)) top_flat = std::max(top_flat, ++freq[r.key]);
  EXPECT_LT(top_flat * 2, top);
}

TEST(GeneratorTest, KeysWithinRange) {
  for (TraceKind kind : {TraceKind::kZipf, TraceKind::kLoop, TraceKind::kDrift}) {
    GeneratorOptions o;
    o.kind = kind;
    o.requests = 50'000;
    o.keys = 500;
    for (const Request& r : generate(o)) {
      ASSERT_LT(r.key, 500u);
      ASSERT_EQ(r.size, 1u);
    }
  }
}

TEST(GeneratorTest, ScanAddsOneHitWonders) {
  GeneratorOptions o;
  o.kind = TraceKind::kScan;
  o.requests = 100'000;
  o.keys = 1'000;
  o.scan_fraction = 0.2;
  std::unordered_set<uint64_t> seen;
  uint64_t scan = 0;
  for (const Request& r : generate(o)) {
    if (r.key >= o.keys) {
      ++scan;
      ASSERT_TRUE(seen.insert(r.key).second) << "scan keys are requested once";
    }
  }
  EXPECT_NEAR(static_cast<double>(scan) / o.requests, 0.2, 0.05);
}

TEST(GeneratorTest, SizesAreFixedPerKeyAndInRange) {
  GeneratorOptions o;
  o.requests = 20'000;
  o.keys = 100;
  o.sizes = true;
  std::unordered_map<uint64_t, uint32_t> size;
  for (const Request& r : generate(o)) {
    ASSERT_GE(r.size, 64u);
    ASSERT_LE(r.size, 65536u);
    auto [it, inserted] = size.emplace(r.key, r.size);
    ASSERT_EQ(it->second, r.size);
  }
}

TEST(GeneratorTest, WritesParsableLines) {
  std::ostringstream out;
  write_trace({{7, 100}, {8, 200}}, true, out);
  EXPECT_EQ(out.str(), "7,100\n8,200\n");
  std::ostringstream plain;
  write_trace({{7, 1}}, false, plain);
  EXPECT_EQ(plain.str(), "7\n");
}

TEST(GeneratorTest, RejectsBadOptions) {
  GeneratorOptions o;
  o.keys = 0;
  EXPECT_FALSE(generate_trace(o).ok());
  o = {};
  o.alpha = -1;
  EXPECT_FALSE(generate_trace(o).ok());
  o = {};
  o.scan_fraction = 1.0;
  EXPECT_FALSE(generate_trace(o).ok());
  EXPECT_FALSE(parse_trace_kind("zipfy").ok());
  EXPECT_EQ(*parse_trace_kind("drift"), TraceKind::kDrift);
}

}  // namespace
}  // namespace tajir::cachesim
