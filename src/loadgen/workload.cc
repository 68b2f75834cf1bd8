#include "loadgen/workload.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace tajir::loadgen {

std::string_view op_name(Op op) {
  static constexpr std::array<std::string_view, kNumOps> kNames = {
      "products page", "products by category", "product search",
      "product",       "customers page",       "customer search",
      "customer",      "bills page",           "bill",
      "dashboard",     "create bill",          "edit price",
      "edit customer"};
  return kNames[static_cast<size_t>(op)];
}

bool is_read(Op op) { return op < Op::kCreateBill; }

Weighted::Weighted(const std::vector<double>& weights) {
  double sum = 0;
  for (double w : weights) cumulative_.push_back(sum += w);
  if (cumulative_.empty()) cumulative_.push_back(1);
}

size_t Weighted::operator()(std::mt19937_64& rng) const {
  double x = std::uniform_real_distribution<double>(0, cumulative_.back())(rng);
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), x);
  return std::min(static_cast<size_t>(it - cumulative_.begin()), cumulative_.size() - 1);
}

namespace {
std::vector<double> zipf_weights(size_t n, double s) {
  std::vector<double> w(std::max<size_t>(n, 1));
  for (size_t r = 0; r < w.size(); ++r) w[r] = 1.0 / std::pow(static_cast<double>(r + 1), s);
  return w;
}
}  // namespace

Zipf::Zipf(size_t n, double s) : Weighted(zipf_weights(n, s)) {}

Mix::Mix(const std::array<double, kNumOps>& weights)
    : weights_(weights), pick_(std::vector<double>(weights.begin(), weights.end())) {}

Mix Mix::pos_day() {
  // Reads (80): a till scans the items of a bill (product by id), pages and searches the
  // catalogue and looks up the customer; the back office pages bills and watches the dashboard.
  // Writes: 15 bills, 3 price edits, 2 customer edits. About five reads per bill, as at a till.
  return Mix({/*products page*/ 12, /*by category*/ 5, /*search*/ 6, /*product*/ 35,
              /*customers page*/ 1, /*customer search*/ 4, /*customer*/ 5, /*bills page*/ 4,
              /*bill*/ 3, /*dashboard*/ 5, /*create bill*/ 15, /*edit price*/ 3,
              /*edit customer*/ 2});
}

double Mix::share(Op op) const {
  double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  return total > 0 ? weights_[static_cast<size_t>(op)] / total : 0;
}

}  // namespace tajir::loadgen
