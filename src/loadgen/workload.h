// The POS day's shape: which shop, which operation, which product or customer.
//
// Shops, products and customers are chosen by Zipf popularity (a few shops and best-sellers take
// most of the traffic, as in retail), operations by a weighted mix whose default is about 80%
// reads, 15% bills and 5% edits:
//
//   Zipf shops(20, 1.0);                 // rank 0 is the busiest
//   Mix mix = Mix::pos_day();
//   std::mt19937_64 rng(42);
//   size_t shop = shops(rng);
//   Op op = mix(rng);                    // Op::kProduct, Op::kCreateBill, ...
//
// Thread safety: const objects may be shared by threads; each thread brings its own generator.
#pragma once

#include <array>
#include <cstddef>
#include <random>
#include <string_view>
#include <vector>

namespace tajir::loadgen {

enum class Op {
  // reads, as a till and a back office make them
  kProductsPage,        // GET /api/products?page=N (the till's catalogue)
  kProductsByCategory,  // GET /api/products?category=C
  kProductSearch,       // GET /api/products?q=pre (typed at the till)
  kProduct,             // GET /api/products/{id} (a scan)
  kCustomersPage,       // GET /api/customers
  kCustomerSearch,      // GET /api/customers?q=name
  kCustomer,            // GET /api/customers/{id}
  kBillsPage,           // GET /api/bills
  kBill,                // GET /api/bills/{id}
  kDashboard,           // GET /api/dashboard
  // writes
  kCreateBill,    // POST /api/bills
  kEditPrice,     // PUT /api/products/{id} {"price"}
  kEditCustomer,  // PUT /api/customers/{id} {"notes"}
};
inline constexpr size_t kNumOps = 13;

std::string_view op_name(Op op);
bool is_read(Op op);

// Index i with probability weights[i] / sum(weights): a binary search in the cumulative sums.
class Weighted {
 public:
  explicit Weighted(const std::vector<double>& weights);
  size_t operator()(std::mt19937_64& rng) const;
  size_t size() const { return cumulative_.size(); }

 private:
  std::vector<double> cumulative_;
};

// Zipf(s) over ranks 0..n-1: P(rank r) proportional to 1 / (r + 1)^s.
class Zipf : public Weighted {
 public:
  Zipf(size_t n, double s);
};

class Mix {
 public:
  // Weights per Op, in enum order; any scale.
  explicit Mix(const std::array<double, kNumOps>& weights);
  // About 80% reads, 15% bills, 5% product and customer edits.
  static Mix pos_day();

  Op operator()(std::mt19937_64& rng) const { return static_cast<Op>(pick_(rng)); }
  double share(Op op) const;  // in [0, 1]

 private:
  std::array<double, kNumOps> weights_;
  Weighted pick_;
};

}  // namespace tajir::loadgen
