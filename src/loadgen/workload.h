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
#include <cstdint>
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

// A POS day compressed (--rhythm-hour-ms): each hour of the day lasts hour_ms of real time and
// carries a share of the peak request rate (a quiet night, a morning rush at 09:00-11:00, a
// lunch, an evening rush at 17:00-19:00), and each hour of the day has its own best-sellers. The
// hours are those of UTC compressed as tajir's --rhythm-hour-ms compresses them, so the days
// repeat, and with them what a server can learn of its shops' weeks.
class Rhythm {
 public:
  // REQUIRES: hour_ms divides 3,600,000.
  explicit Rhythm(int64_t hour_ms) : hour_ms_(hour_ms) {}
  static constexpr std::array<double, 24> kShape = {0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.05, 0.3,
                                                    0.6,  1.0,  1.0,  0.5,  0.7,  0.7,  0.4,  0.4,
                                                    0.4,  1.0,  1.0,  0.5,  0.2,  0.2,  0.05, 0.05};

  // Hours since 1970 on the compressed clock; the hour of the day; where in it (0 to 1).
  int64_t hour_index(int64_t unix_ms) const { return unix_ms / hour_ms_; }
  int hour_of_day(int64_t unix_ms) const { return static_cast<int>(hour_index(unix_ms) % 24); }
  double into_hour(int64_t unix_ms) const {
    return static_cast<double>(unix_ms % hour_ms_) / static_cast<double>(hour_ms_);
  }
  // The share of the peak rate at that time, in (0, 1]; busy: the peak's hours.
  double share(int64_t unix_ms) const { return kShape[static_cast<size_t>(hour_of_day(unix_ms))]; }
  bool busy(int64_t unix_ms) const { return share(unix_ms) >= 1.0; }
  // The item of popularity rank `rank` of `n`, in that hour of the day: each hour rotates the
  // ranks by n / 24, so a breakfast rush sells other things than an evening one.
  size_t item(size_t rank, size_t n, int64_t unix_ms) const {
    return n == 0 ? 0 : (rank + static_cast<size_t>(hour_of_day(unix_ms)) * n / 24) % n;
  }

 private:
  int64_t hour_ms_;
};

}  // namespace tajir::loadgen
