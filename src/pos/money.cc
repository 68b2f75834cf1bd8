#include "pos/money.h"

#include <string>

namespace tajir::pos {

Result<BillAmounts> bill_amounts(std::span<const BillLine> lines, int64_t discount,
                                 int64_t tax_rate_bp) {
  if (lines.empty()) return InvalidArgument("a bill needs at least one item", "items");
  if (lines.size() > static_cast<size_t>(kMaxLines)) {
    return InvalidArgument("at most 500 items per bill", "items");
  }
  if (discount < 0 || discount > kMaxMoney) {
    return InvalidArgument("discount must be 0 to 10^12 minor units", "discount");
  }
  if (tax_rate_bp < 0 || tax_rate_bp > kMaxTaxRateBp) {
    return InvalidArgument("tax_rate_bp must be 0 to 10000 (basis points)", "tax_rate_bp");
  }
  BillAmounts a;
  a.line_totals.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const BillLine& l = lines[i];
    const std::string at = "items[" + std::to_string(i) + "]";
    if (l.quantity < 1 || l.quantity > kMaxQuantity) {
      return InvalidArgument("quantity must be 1 to 1000000", at + ".quantity");
    }
    if (l.unit_price < 0 || l.unit_price > kMaxMoney) {
      return InvalidArgument("unit_price must be 0 to 10^12 minor units", at + ".unit_price");
    }
    int64_t line = 0;
    if (__builtin_mul_overflow(l.quantity, l.unit_price, &line) || line > kMaxSubtotal) {
      return InvalidArgument(at + ": quantity x unit_price exceeds 10^14 minor units", at);
    }
    if (__builtin_add_overflow(a.subtotal, line, &a.subtotal) || a.subtotal > kMaxSubtotal) {
      return InvalidArgument("the bill's subtotal exceeds 10^14 minor units", "items");
    }
    a.line_totals.push_back(line);
  }
  if (discount > a.subtotal) {
    return InvalidArgument("discount may not exceed the subtotal", "discount");
  }
  int64_t taxed = 0;  // (subtotal - discount) * rate + 5000 <= 10^18 + 5000 under the limits
  if (__builtin_mul_overflow(a.subtotal - discount, tax_rate_bp, &taxed) ||
      __builtin_add_overflow(taxed, int64_t{5000}, &taxed)) {
    return InvalidArgument("the bill's tax is out of range", "tax_rate_bp");
  }
  a.tax = taxed / 10000;
  if (__builtin_add_overflow(a.subtotal - discount, a.tax, &a.total)) {
    return InvalidArgument("the bill's total is out of range", "items");
  }
  return a;
}

bool discount_within(int64_t discount, int64_t subtotal, int64_t limit_bp) {
  // discount * 10000 <= subtotal * limit_bp, each side at most 10^18.
  __int128 lhs = static_cast<__int128>(discount) * 10000;
  __int128 rhs = static_cast<__int128>(subtotal) * limit_bp;
  return lhs <= rhs;
}

}  // namespace tajir::pos
