// pos/money.h on arbitrary lines, discounts and tax rates: nothing overflows (UBSan stops the
// run on a signed overflow), and what bill_amounts() accepts adds up: each line is quantity x
// unit_price, the subtotal their sum, the tax the rounded share of (subtotal - discount), the
// total subtotal - discount + tax, all within the limits the header promises. What it refuses
// is outside those limits. The sums are checked in 128 bits.
//
// Input: 8 bytes discount, 8 bytes tax rate, then 16 bytes per line (quantity, unit_price), each
// little-endian int64; a leading byte picks whether they are taken as is or folded into a range
// around the limits (so both huge and plausible values are tried).
#include "pos/money.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz/fuzz.h"

using namespace tajir::pos;

namespace {

int64_t take(const uint8_t*& p, const uint8_t* end, bool fold, int64_t max) {
  uint64_t v = 0;
  size_t n = std::min<size_t>(8, end - p);
  std::memcpy(&v, p, n);
  p += n;
  int64_t s = static_cast<int64_t>(v);
  if (!fold) return s;
  // -2 .. max + 2: the edges of the range and everything in it.
  return static_cast<int64_t>(v % static_cast<uint64_t>(max + 5)) - 2;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t* p = data + 1;
  const uint8_t* end = data + size;
  bool fold = (data[0] & 1) != 0;
  int64_t discount = take(p, end, fold, kMaxMoney);
  int64_t rate = take(p, end, fold, kMaxTaxRateBp);
  std::vector<BillLine> lines;
  while (end - p >= 16 && lines.size() <= static_cast<size_t>(kMaxLines)) {
    int64_t q = take(p, end, fold, (data[0] & 2) ? kMaxQuantity : 1000);
    int64_t price = take(p, end, fold, kMaxMoney);
    lines.push_back({q, price});
  }
  auto a = bill_amounts(lines, discount, rate);

  bool in_range = !lines.empty() && lines.size() <= static_cast<size_t>(kMaxLines) &&
                  discount >= 0 && discount <= kMaxMoney && rate >= 0 && rate <= kMaxTaxRateBp;
  __int128 subtotal = 0;
  for (const BillLine& l : lines) {
    in_range = in_range && l.quantity >= 1 && l.quantity <= kMaxQuantity && l.unit_price >= 0 &&
               l.unit_price <= kMaxMoney;
    __int128 line = static_cast<__int128>(l.quantity) * l.unit_price;
    in_range = in_range && line <= kMaxSubtotal;
    if (line >= 0 && line <= kMaxSubtotal) subtotal += line;  // else refused anyway; no overflow
  }
  in_range = in_range && subtotal <= kMaxSubtotal && discount <= subtotal;
  FUZZ_CHECK(a.ok() == in_range, "accepted %d, in range %d: %s", a.ok(), in_range,
             a.ok() ? "" : a.status().message().c_str());
  if (!a.ok()) {
    FUZZ_CHECK(!a.status().field().empty(), "a refusal names its field");
    return 0;
  }
  FUZZ_CHECK(a->line_totals.size() == lines.size(), "one total per line");
  __int128 sum = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    FUZZ_CHECK(a->line_totals[i] == static_cast<__int128>(lines[i].quantity) * lines[i].unit_price,
               "line %zu", i);
    sum += a->line_totals[i];
  }
  FUZZ_CHECK(a->subtotal == sum, "the subtotal is the sum of the lines");
  __int128 base = static_cast<__int128>(a->subtotal) - discount;
  __int128 exact_times_10000 = base * rate;
  // Half up: tax = floor((base * rate + 5000) / 10000).
  FUZZ_CHECK(static_cast<__int128>(a->tax) * 10000 <= exact_times_10000 + 5000 &&
                 exact_times_10000 + 5000 < (static_cast<__int128>(a->tax) + 1) * 10000,
             "tax rounds half up");
  FUZZ_CHECK(a->total == base + a->tax, "total = subtotal - discount + tax");
  FUZZ_CHECK(a->tax >= 0 && a->tax <= a->subtotal && a->total >= 0 && a->total <= 2 * kMaxSubtotal,
             "within the limits");
  // discount_within's REQUIRES hold here; it must agree with exact arithmetic.
  for (int64_t limit : {int64_t{0}, rate, int64_t{10000}}) {
    bool within = discount_within(discount, a->subtotal, limit);
    FUZZ_CHECK(within == (static_cast<__int128>(discount) * 10000 <=
                          static_cast<__int128>(a->subtotal) * limit),
               "discount_within");
  }
  return 0;
}
