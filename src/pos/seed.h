// seed(): realistic demo data for `tajir seed` and the benchmarks.
//
// Shops with owners (and a cashier each), products in grocery categories with prices, costs and
// stock, customers with names, phones and emails, and bills spread over the last year with a
// weekly rhythm (busier weekends) and a daily one (lunch and evening peaks, in the shop's time
// zone), skewed product popularity, and about 4% voided. Stock, customers' totals and bill
// numbers are kept consistent with the bills, as if every bill had gone through the API.
// Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pos/pos.h"

namespace tajir::pos {

struct SeedOptions {
  int64_t shops = 3;
  int64_t products = 2000;   // per shop
  int64_t customers = 5000;  // per shop
  int64_t bills = 100000;    // in all, spread over the shops by size
  uint64_t seed = 42;
};

struct DemoLogin {
  std::string shop, username, password, role;
};

// `progress(done, total, what)` is called now and then.
Result<std::vector<DemoLogin>> seed(
    Pos& pos, const SeedOptions& options,
    const std::function<void(int64_t done, int64_t total, const char* what)>& progress);

// The password seed() gives every demo login.
inline constexpr const char* kDemoPassword = "tajir-demo-2026";

}  // namespace tajir::pos
