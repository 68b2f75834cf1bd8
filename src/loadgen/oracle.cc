#include "loadgen/oracle.h"

#include <algorithm>

namespace tajir::loadgen {
namespace {
constexpr size_t kExamples = 10;
}  // namespace

Oracle::Shop& Oracle::shop(int64_t id) {
  std::lock_guard lock(shops_mu_);
  auto& s = shops_[id];
  if (!s) {
    s = std::make_unique<Shop>();
    s->state.push_back({0, ShopState{}});
  }
  return *s;
}

const Oracle::Shop* Oracle::find_shop(int64_t id) const {
  std::lock_guard lock(shops_mu_);
  auto it = shops_.find(id);
  return it == shops_.end() ? nullptr : it->second.get();
}

template <typename T>
const T* Oracle::as_of(const History<T>& h, uint64_t seq) {
  // The newest entry at or before seq; histories are short at their end, so walk back.
  for (auto it = h.rbegin(); it != h.rend(); ++it) {
    if (it->first <= seq) return &it->second;
  }
  return nullptr;
}

template <typename T>
const Oracle::History<T>* Oracle::find(const std::unordered_map<int64_t, History<T>>& m,
                                       int64_t id) {
  auto it = m.find(id);
  return it == m.end() ? nullptr : &it->second;
}

template <typename Select>
auto Oracle::bound_of(uint64_t began, int64_t shop_id, Select select)
    -> std::optional<typename std::remove_pointer_t<
        decltype(select(std::declval<const Shop&>()))>::value_type::second_type> {
  const Shop* sh = find_shop(shop_id);
  if (sh == nullptr) return std::nullopt;
  std::lock_guard lock(sh->mu);
  const auto* history = select(*sh);
  if (history == nullptr) return std::nullopt;
  checks_.fetch_add(1, std::memory_order_relaxed);
  return *as_of(*history, began);  // a copy: the history may grow once the lock is released
}

template <typename T, typename Change>
void Oracle::acknowledge(int64_t shop_id, std::unordered_map<int64_t, History<T>> Shop::*entities,
                         int64_t id, Change change) {
  Shop& sh = shop(shop_id);
  std::lock_guard lock(sh.mu);
  auto it = (sh.*entities).find(id);
  if (it == (sh.*entities).end()) return;
  uint64_t seq = seq_.fetch_add(1, std::memory_order_acq_rel) + 1;
  T next = it->second.back().second;
  change(next);
  it->second.push_back({seq, next});
}

void Oracle::add_shop(int64_t id, ShopState s) {
  Shop& sh = shop(id);
  std::lock_guard lock(sh.mu);
  sh.state = {{0, s}};
}

void Oracle::add_product(int64_t shop_id, int64_t id, ProductState p) {
  Shop& sh = shop(shop_id);
  std::lock_guard lock(sh.mu);
  sh.products[id] = {{0, p}};
}

void Oracle::add_customer(int64_t shop_id, int64_t id, CustomerState c) {
  Shop& sh = shop(shop_id);
  std::lock_guard lock(sh.mu);
  sh.customers[id] = {{0, c}};
}

void Oracle::bill_acknowledged(int64_t shop_id, const BillAck& bill) {
  Shop& sh = shop(shop_id);
  std::lock_guard lock(sh.mu);
  // Taken under the shop's lock, so a check that saw this number also sees the new bounds.
  uint64_t seq = seq_.fetch_add(1, std::memory_order_acq_rel) + 1;
  ShopState s = sh.state.back().second;
  s.bills += 1;
  s.revenue += bill.total;
  s.last_number = std::max(s.last_number, bill.number);
  sh.state.push_back({seq, s});
  for (auto [product, quantity] : bill.lines) {
    auto it = sh.products.find(product);
    if (it == sh.products.end()) continue;
    ProductState p = it->second.back().second;
    p.stock -= quantity;
    it->second.push_back({seq, p});
  }
  if (auto it = sh.customers.find(bill.customer_id); it != sh.customers.end()) {
    CustomerState c = it->second.back().second;
    c.bill_count += 1;
    c.total_spent += bill.total;
    it->second.push_back({seq, c});
  }
}

void Oracle::price_acknowledged(int64_t shop_id, int64_t product, int64_t price) {
  acknowledge(shop_id, &Shop::products, product,
              [&](ProductState& p) { p.price = std::max(p.price, price); });
}

void Oracle::notes_acknowledged(int64_t shop_id, int64_t customer, int64_t version) {
  acknowledge(shop_id, &Shop::customers, customer,
              [&](CustomerState& c) { c.notes_version = std::max(c.notes_version, version); });
}

ProductState Oracle::product(int64_t shop_id, int64_t id) const {
  const Shop* sh = find_shop(shop_id);
  if (sh == nullptr) return {};
  std::lock_guard lock(sh->mu);
  auto it = sh->products.find(id);
  return it == sh->products.end() ? ProductState{} : it->second.back().second;
}

CustomerState Oracle::customer(int64_t shop_id, int64_t id) const {
  const Shop* sh = find_shop(shop_id);
  if (sh == nullptr) return {};
  std::lock_guard lock(sh->mu);
  auto it = sh->customers.find(id);
  return it == sh->customers.end() ? CustomerState{} : it->second.back().second;
}

bool Oracle::check_product(uint64_t began, int64_t shop_id, int64_t id, int64_t price,
                           int64_t stock, std::string_view where) {
  auto bound = bound_of(began, shop_id, [id](const Shop& sh) { return find(sh.products, id); });
  if (!bound || (price >= bound->price && stock <= bound->stock)) return true;
  record_stale("shop " + std::to_string(shop_id) + " product " + std::to_string(id) + ": price " +
               std::to_string(price) + " stock " + std::to_string(stock) +
               ", acknowledged price >= " + std::to_string(bound->price) +
               " stock <= " + std::to_string(bound->stock) +
               (where.empty() ? "" : " (" + std::string(where) + ")"));
  return false;
}

bool Oracle::check_customer(uint64_t began, int64_t shop_id, int64_t id,
                            const CustomerState& seen) {
  auto bound = bound_of(began, shop_id, [id](const Shop& sh) { return find(sh.customers, id); });
  if (!bound || (seen.bill_count >= bound->bill_count && seen.total_spent >= bound->total_spent &&
                 seen.notes_version >= bound->notes_version)) {
    return true;
  }
  record_stale("shop " + std::to_string(shop_id) + " customer " + std::to_string(id) + ": bills " +
               std::to_string(seen.bill_count) + " spent " + std::to_string(seen.total_spent) +
               " notes v" + std::to_string(seen.notes_version) +
               ", acknowledged >= " + std::to_string(bound->bill_count) + ", " +
               std::to_string(bound->total_spent) + ", v" + std::to_string(bound->notes_version));
  return false;
}

bool Oracle::check_dashboard(uint64_t began, int64_t shop_id, int64_t bills, int64_t revenue) {
  auto bound = bound_of(began, shop_id, [](const Shop& sh) { return &sh.state; });
  if (!bound || (bills >= bound->bills && revenue >= bound->revenue)) return true;
  record_stale("shop " + std::to_string(shop_id) + " dashboard: " + std::to_string(bills) +
               " bills, revenue " + std::to_string(revenue) + "; acknowledged >= " +
               std::to_string(bound->bills) + ", " + std::to_string(bound->revenue));
  return false;
}

bool Oracle::check_newest_bill(uint64_t began, int64_t shop_id, int64_t newest_number) {
  auto bound = bound_of(began, shop_id, [](const Shop& sh) { return &sh.state; });
  if (!bound || newest_number >= bound->last_number) return true;
  record_stale("shop " + std::to_string(shop_id) + " bills list: newest number " +
               std::to_string(newest_number) + ", acknowledged " +
               std::to_string(bound->last_number));
  return false;
}

void Oracle::record_stale(std::string what) {
  stale_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(stale_mu_);
  if (examples_.size() < kExamples) examples_.push_back(std::move(what));
}

std::vector<std::string> Oracle::stale() const {
  std::lock_guard lock(stale_mu_);
  return examples_;
}

}  // namespace tajir::loadgen
