// The arithmetic of a bill, and the limits that keep every sum of money in 64 bits.
//
// Money is int64 minor units. The limits are chosen so that nothing the server computes or
// stores can wrap, from one line up to a shop's all-time figures:
//
//   a price, unit_price or discount  <= kMaxMoney (10^12)
//   a quantity                       1 .. kMaxQuantity (10^6), at most kMaxLines lines
//   a bill's subtotal (each line too) <= kMaxSubtotal (10^14), so (subtotal - discount) *
//                                       tax_rate_bp (<= 10^18) and total (<= 2 * 10^14) fit
//   a shop's paid volume             <= kMaxShopVolume (10^18): the sum over its paid bills of
//                                       subtotal + tax, kept on the shop row as bills are paid
//                                       and voided. It bounds every SUM the dashboard and the
//                                       customers' totals take (of totals, subtotals, line
//                                       totals), since all of those terms are non-negative and
//                                       no larger than subtotal + tax.
//   a shop's bills                   <= kMaxShopBills (10^9), so the sum of quantities sold
//                                       (<= 5 * 10^8 a bill) stays under 5 * 10^17
//
// bill_amounts() checks every product and sum anyway (__builtin_*_overflow), so a limit that
// is wrong fails as a 400, never as a wrapped value.
//
//   auto a = bill_amounts({{2, 1000}, {3, 300}}, 150, 500);
//   // a->line_totals == {2000, 900}, a->subtotal == 2900, a->tax == 138, a->total == 2888
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "util/status.h"

namespace tajir::pos {

inline constexpr int64_t kMaxMoney = 1'000'000'000'000;  // 10^12
inline constexpr int64_t kMaxQuantity = 1'000'000;       // 10^6
inline constexpr int64_t kMaxLines = 500;
inline constexpr int64_t kMaxTaxRateBp = 10'000;                      // 100%
inline constexpr int64_t kMaxSubtotal = 100'000'000'000'000;          // 10^14
inline constexpr int64_t kMaxShopVolume = 1'000'000'000'000'000'000;  // 10^18
inline constexpr int64_t kMaxShopBills = 1'000'000'000;               // 10^9

struct BillLine {
  int64_t quantity = 0, unit_price = 0;
};

struct BillAmounts {
  std::vector<int64_t> line_totals;
  int64_t subtotal = 0, tax = 0, total = 0;
};

// A bill's line totals, subtotal, tax (half up) and total, or kInvalidArgument naming the
// field: "items[i]" for a line over kMaxSubtotal, "items" for a subtotal over it, "discount"
// above the subtotal, and the field of an input outside its range.
Result<BillAmounts> bill_amounts(std::span<const BillLine> lines, int64_t discount,
                                 int64_t tax_rate_bp);

// Whether `discount` is at most `limit_bp` basis points of `subtotal`.
// REQUIRES: 0 <= discount <= kMaxMoney, 0 <= subtotal <= kMaxSubtotal, 0 <= limit_bp <= 10000.
bool discount_within(int64_t discount, int64_t subtotal, int64_t limit_bp);

}  // namespace tajir::pos
