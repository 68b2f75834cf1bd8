// Oracle: what the load generator knows must be visible, to count stale reads.
//
// The generator is the only writer, and every write it makes only ever moves a value one way:
// a bill lowers its products' stock and raises its customer's totals and the shop's bill count;
// an edit raises a product's price or a customer's notes version. So "the state acknowledged
// before a read began" is a set of bounds, and a read is stale when it shows a value on the
// wrong side of one of them:
//
//   Oracle o;
//   o.add_product(shop, id, {.price = 1250, .stock = 40});      // the baseline, before any load
//   uint64_t t = o.now();                                       // a read begins
//   ... GET /api/products/7 -> {"price": 1250, "stock": 40} ...
//   o.check_product(t, shop, 7, 1250, 40);                      // fresh: true
//   o.bill_acknowledged(shop, {.number = 1, .total = 2500, .lines = {{7, 2}}});
//   o.check_product(t, shop, 7, 1250, 40);                      // began before the ack: true
//   o.check_product(o.now(), shop, 7, 1250, 40);                // stale: stock must be <= 38
//
// Each acknowledgement gets a sequence number from one counter; each entity keeps the bounds
// after each of its acknowledgements, so a check finds the bound as of the read's start (a write
// acknowledged while the read was in flight may or may not show).
//
// Thread safety: thread-safe; one mutex per shop.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tajir::loadgen {

struct ProductState {
  int64_t price = 0;
  int64_t stock = 0;
};

struct CustomerState {
  int64_t bill_count = 0;
  int64_t total_spent = 0;
  int64_t notes_version = 0;  // from notes "loadgen edit N"; 0 for any other notes
};

struct ShopState {
  int64_t bills = 0;        // the dashboard's bills.all_time
  int64_t revenue = 0;      // the dashboard's revenue.all_time
  int64_t last_number = 0;  // the newest bill number
};

struct BillAck {
  int64_t number = 0;
  int64_t total = 0;
  int64_t customer_id = 0;                         // 0: none
  std::vector<std::pair<int64_t, int64_t>> lines;  // product id, quantity
};

class Oracle {
 public:
  // The baseline, read before any load. An entity without a baseline is not checked.
  void add_shop(int64_t shop, ShopState s);
  void add_product(int64_t shop, int64_t id, ProductState p);
  void add_customer(int64_t shop, int64_t id, CustomerState c);

  // The sequence number of the newest acknowledgement: take it when a read begins.
  uint64_t now() const { return seq_.load(std::memory_order_acquire); }

  // Acknowledged writes.
  void bill_acknowledged(int64_t shop, const BillAck& bill);
  void price_acknowledged(int64_t shop, int64_t product, int64_t price);
  void notes_acknowledged(int64_t shop, int64_t customer, int64_t version);

  // The baseline values, for building writes (a price edit raises the current bound).
  ProductState product(int64_t shop, int64_t id) const;
  CustomerState customer(int64_t shop, int64_t id) const;

  // Each returns false when the read, begun at `began`, shows a state older than one
  // acknowledged before it began, and records why (see stale()).
  // `where`: the read that showed it ("GET /api/products?page=2"), for the report.
  bool check_product(uint64_t began, int64_t shop, int64_t id, int64_t price, int64_t stock,
                     std::string_view where = {});
  bool check_customer(uint64_t began, int64_t shop, int64_t id, const CustomerState& seen);
  bool check_dashboard(uint64_t began, int64_t shop, int64_t bills, int64_t revenue);
  bool check_newest_bill(uint64_t began, int64_t shop, int64_t newest_number);

  uint64_t checks() const { return checks_.load(std::memory_order_relaxed); }
  uint64_t stale_count() const { return stale_.load(std::memory_order_relaxed); }
  // The first few stale reads, described.
  std::vector<std::string> stale() const;

 private:
  // Bounds after each acknowledgement, oldest first; the first is the baseline (seq 0).
  template <typename T>
  using History = std::vector<std::pair<uint64_t, T>>;

  struct Shop {
    mutable std::mutex mu;
    History<ShopState> state;
    std::unordered_map<int64_t, History<ProductState>> products;
    std::unordered_map<int64_t, History<CustomerState>> customers;
  };

  Shop& shop(int64_t id);
  const Shop* find_shop(int64_t id) const;
  void record_stale(std::string what);
  template <typename T>
  static const T* as_of(const History<T>& h, uint64_t seq);
  template <typename T>
  static const History<T>* find(const std::unordered_map<int64_t, History<T>>& m, int64_t id);
  // The bounds, as of `began`, of the history `select` picks in the shop (nullptr: none), and
  // counts the check; nullopt when there is nothing to check.
  template <typename Select>
  auto bound_of(uint64_t began, int64_t shop_id, Select select)
      -> std::optional<typename std::remove_pointer_t<
          decltype(select(std::declval<const Shop&>()))>::value_type::second_type>;
  // Appends the entity's bounds after `change`, under the shop's lock, with a new sequence number.
  template <typename T, typename Change>
  void acknowledge(int64_t shop_id, std::unordered_map<int64_t, History<T>> Shop::*entities,
                   int64_t id, Change change);

  mutable std::mutex shops_mu_;
  std::unordered_map<int64_t, std::unique_ptr<Shop>> shops_;
  std::atomic<uint64_t> seq_{0};
  std::atomic<uint64_t> checks_{0};
  std::atomic<uint64_t> stale_{0};
  mutable std::mutex stale_mu_;
  std::vector<std::string> examples_;
};

}  // namespace tajir::loadgen
