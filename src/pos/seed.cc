#include "pos/seed.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "pos/internal/rows.h"

namespace tajir::pos {
namespace {

constexpr int64_t kDayMs = 24 * 3600 * 1000;
constexpr int64_t kBatch = 2000;  // rows per transaction

const char* kShopNames[] = {"Corner Market",      "Souq Al Nakheel", "Green Basket",
                            "Harbour Grocer",     "Daily Fresh",     "Oasis Mart",
                            "Sunrise Provisions", "Old Town Store"};
const char* kTimezones[] = {"Asia/Dubai",   "Europe/London", "America/New_York",
                            "Asia/Karachi", "Europe/Berlin", "Asia/Riyadh",
                            "UTC",          "Asia/Kolkata"};
const char* kCurrencies[] = {"AED", "GBP", "USD", "PKR", "EUR", "SAR", "USD", "INR"};

struct Category {
  const char* name;
  std::vector<const char*> items;
  int64_t min_price, max_price;  // minor units
};
const std::vector<Category>& categories() {
  static const std::vector<Category> k = {
      {"Beverages",
       {"Green Tea", "Black Tea", "Arabic Coffee", "Orange Juice", "Mango Juice", "Sparkling Water",
        "Mineral Water", "Cola", "Lemonade", "Iced Tea"},
       150,
       2500},
      {"Dairy",
       {"Fresh Milk", "Laban", "Greek Yoghurt", "Cheddar", "Halloumi", "Butter", "Labneh",
        "Cream Cheese", "Feta", "Ghee"},
       300,
       4500},
      {"Bakery",
       {"Pita Bread", "Sourdough", "Croissant", "Date Maamoul", "Baguette", "Whole Wheat Loaf",
        "Zaatar Manakish", "Muffin", "Bagel", "Rusk"},
       100,
       1800},
      {"Produce",
       {"Tomatoes", "Cucumbers", "Bananas", "Apples", "Medjool Dates", "Onions", "Potatoes",
        "Lemons", "Mint", "Avocados"},
       80,
       3000},
      {"Snacks",
       {"Pistachios", "Almonds", "Potato Chips", "Chocolate Bar", "Halva", "Popcorn", "Cashews",
        "Granola Bar", "Crackers", "Trail Mix"},
       120,
       3500},
      {"Pantry",
       {"Basmati Rice", "Olive Oil", "Lentils", "Chickpeas", "Tahini", "Honey", "Pasta", "Flour",
        "Sugar", "Saffron"},
       200,
       9000},
      {"Household",
       {"Dish Soap", "Laundry Detergent", "Paper Towels", "Trash Bags", "Sponges", "Glass Cleaner",
        "Tissues", "Aluminium Foil", "Bleach", "Air Freshener"},
       250,
       4000},
      {"Personal Care",
       {"Shampoo", "Toothpaste", "Hand Soap", "Deodorant", "Body Lotion", "Razor", "Sunscreen",
        "Oud Perfume", "Face Wash", "Cotton Buds"},
       300,
       12000},
      {"Frozen",
       {"Frozen Peas", "Ice Cream", "Fish Fillets", "Chicken Nuggets", "Samosas", "Pizza",
        "Mixed Vegetables", "Berries", "Falafel", "Spring Rolls"},
       400,
       5000},
  };
  return k;
}
const char* kSizes[] = {"250g", "500g",   "1kg",         "330ml", "1L",
                        "2L",   "6-pack", "Family Size", "Small", "Large"};
const char* kBrands[] = {"Al Ain", "Almarai",    "Nature's Best", "Golden Field", "Baraka",
                         "Sahara", "Blue Coast", "Oasis",         "Farm Fresh",   "Royal"};
const char* kFirst[] = {"Aisha", "Omar", "Fatima", "Yusuf", "Layla", "Hassan", "Maryam",
                        "Ali",   "Sara", "Khalid", "Noor",  "Ahmed", "Emma",   "James",
                        "Priya", "Ravi", "Chen",   "Sofia", "Lucas", "Hana"};
const char* kLast[] = {"Al Mansoori", "Khan",   "Haddad",  "Rahman",    "Smith",  "Patel",
                       "Nasser",      "Farouk", "Ibrahim", "Chowdhury", "Garcia", "Wong",
                       "Müller",      "Silva",  "Qureshi", "Aziz"};
const char* kStreets[] = {"Al Wasl Road", "King Street",   "Sheikh Zayed Road",
                          "Harbour Lane", "Market Square", "Palm Avenue"};

template <typename T, size_t N>
const T& pick(std::mt19937_64& rng, const T (&arr)[N]) {
  return arr[rng() % N];
}

struct SeedProduct {
  int64_t id, price, stock;
  std::string name;
};

}  // namespace

Result<std::vector<DemoLogin>> seed(
    Pos& pos, const SeedOptions& o,
    const std::function<void(int64_t, int64_t, const char*)>& progress) {
  std::mt19937_64 rng(o.seed);
  db::Database& db = pos.database();
  std::vector<DemoLogin> logins;
  const int64_t now = now_ms();
  const int64_t total_work = o.shops * (o.products + o.customers) + o.bills;
  int64_t done = 0;

  // Bills are shared out by shop size: the first shop is the busiest.
  std::vector<double> weights;
  for (int64_t s = 0; s < o.shops; ++s)
    weights.push_back(1.0 / (1.0 + 0.5 * static_cast<double>(s)));
  double weight_sum = 0;
  for (double w : weights) weight_sum += w;

  for (int64_t s = 0; s < o.shops; ++s) {
    std::string shop_name = kShopNames[s % std::size(kShopNames)];
    if (s >= static_cast<int64_t>(std::size(kShopNames))) shop_name += " " + std::to_string(s + 1);
    std::string owner = "owner" + std::to_string(s + 1);
    auto reg = pos.register_shop(shop_name, owner, kDemoPassword);
    if (!reg.ok()) {
      if (reg.status().code() == StatusCode::kAlreadyExists) {
        return Status(StatusCode::kAlreadyExists,
                      "the database already has demo data (user " + owner + ")");
      }
      return reg.status();
    }
    Principal p{reg->user.id, reg->user.shop_id, Role::kOwner, owner};
    const char* tz = kTimezones[s % std::size(kTimezones)];
    auto updated = pos.update_shop(
        p, ShopInput{std::nullopt, std::string(kCurrencies[s % std::size(kCurrencies)]),
                     std::string(tz)});
    if (!updated.ok()) return updated.status();
    logins.push_back({shop_name, owner, kDemoPassword, "owner"});
    std::string cashier = "cashier" + std::to_string(s + 1);
    auto emp = pos.create_employee(
        p,
        EmployeeInput{
            std::string(kFirst[rng() % std::size(kFirst)]) + " " + kLast[rng() % std::size(kLast)],
            std::optional<std::string>("+971 50 " + std::to_string(1000000 + rng() % 9000000)),
            std::optional<std::string>("Cashier"), cashier, std::string(kDemoPassword), true});
    if (!emp.ok()) return emp.status();
    logins.push_back({shop_name, cashier, kDemoPassword, "cashier"});

    // Products.
    std::vector<SeedProduct> products;
    for (int64_t base = 0; base < o.products; base += kBatch) {
      Status st = db.write([&](db::Transaction& tx) -> Status {
        for (int64_t i = base; i < std::min(o.products, base + kBatch); ++i) {
          const Category& c = categories()[rng() % categories().size()];
          std::string name = std::string(pick(rng, kBrands)) + " " +
                             c.items[rng() % c.items.size()] + " " + pick(rng, kSizes);
          int64_t price =
              c.min_price +
              static_cast<int64_t>(rng() % static_cast<uint64_t>(c.max_price - c.min_price));
          price = price / 5 * 5;  // prices end in 0 or 5
          int64_t stock = static_cast<int64_t>(rng() % 400);
          char sku[32];
          std::snprintf(sku, sizeof sku, "%.3s-%05lld", c.name, static_cast<long long>(i + 1));
          auto rows = tx.query(
              "INSERT INTO products(shop_id, name, name_lower, sku, barcode, category, price, "
              "cost, "
              "stock, low_stock_threshold, active, created_at, updated_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
              {p.shop_id, name, internal::ascii_lower(name), std::string(sku),
               std::to_string(6'000'000'000'000 + rng() % 999'999'999'999), std::string(c.name),
               price, price * (55 + static_cast<int64_t>(rng() % 25)) / 100, stock,
               int64_t{5 + static_cast<int64_t>(rng() % 20)}, now - 400 * kDayMs,
               now - 400 * kDayMs});
          if (!rows.ok()) return rows.status();
          products.push_back({(*rows)[0].integer(0), price, stock, name});
        }
        return OkStatus();
      });
      if (!st.ok()) return st;
      done += std::min(kBatch, o.products - base);
      progress(done, total_work, "products");
    }

    // Customers.
    std::vector<int64_t> customers;
    for (int64_t base = 0; base < o.customers; base += kBatch) {
      Status st = db.write([&](db::Transaction& tx) -> Status {
        for (int64_t i = base; i < std::min(o.customers, base + kBatch); ++i) {
          std::string first = pick(rng, kFirst), last = pick(rng, kLast);
          std::string name = first + " " + last;
          std::string email =
              internal::ascii_lower(first) + "." + std::to_string(i + 1) + "@example.com";
          auto rows = tx.query(
              "INSERT INTO customers(shop_id, name, name_lower, phone, email, address, notes, "
              "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?) RETURNING id",
              {p.shop_id, name, internal::ascii_lower(name),
               "+971 55 " + std::to_string(1000000 + rng() % 9000000), email,
               std::to_string(1 + rng() % 200) + " " + pick(rng, kStreets), now - 380 * kDayMs,
               now - 380 * kDayMs});
          if (!rows.ok()) return rows.status();
          customers.push_back((*rows)[0].integer(0));
        }
        return OkStatus();
      });
      if (!st.ok()) return st;
      done += std::min(kBatch, o.customers - base);
      progress(done, total_work, "customers");
    }

    // Bills, oldest first so that numbers follow time.
    const int64_t n_bills =
        static_cast<int64_t>(std::llround(static_cast<double>(o.bills) * weights[s] / weight_sum));
    if (n_bills == 0 || products.empty()) continue;
    std::vector<int64_t> times;
    times.reserve(n_bills);
    // Weekly rhythm: Thursday to Saturday busier; daily: peaks at lunch and in the evening.
    static const double kWeekday[7] = {0.9, 0.85, 0.85, 0.9, 1.2, 1.35, 1.3};  // Sun..Sat
    static const double kHour[24] = {0.05, 0.02, 0.01, 0.01, 0.01, 0.03, 0.2, 0.5,
                                     0.8,  0.9,  1.0,  1.4,  1.6,  1.3,  1.0, 0.9,
                                     1.0,  1.4,  1.7,  1.8,  1.5,  1.0,  0.5, 0.2};
    std::discrete_distribution<int> hour_dist(std::begin(kHour), std::end(kHour));
    auto zone_offset =
        internal::local_boundaries(tz, now).day - (now / kDayMs) * kDayMs;  // local midnight vs UTC
    while (static_cast<int64_t>(times.size()) < n_bills) {
      int64_t day = static_cast<int64_t>(rng() % 365);
      int64_t midnight = (now / kDayMs - day) * kDayMs + zone_offset;
      int weekday = static_cast<int>(((midnight + kDayMs / 2) / kDayMs + 4) %
                                     7);  // 1970-01-01 was a Thursday
      if (std::uniform_real_distribution<double>(0, 1.4)(rng) > kWeekday[weekday]) continue;
      int64_t t = midnight + hour_dist(rng) * 3600'000 + static_cast<int64_t>(rng() % 3600'000);
      if (t < now) times.push_back(t);
    }
    std::sort(times.begin(), times.end());
    // Popularity: a few products sell most (Zipf-like over a shuffled order).
    std::vector<size_t> order(products.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<double> pop;
    for (size_t i = 0; i < order.size(); ++i)
      pop.push_back(1.0 / std::pow(static_cast<double>(i + 1), 0.9));
    std::discrete_distribution<size_t> product_dist(pop.begin(), pop.end());
    std::map<int64_t, std::pair<int64_t, int64_t>> customer_totals;  // id -> (count, spent)
    int64_t number = 0;
    int64_t paid_volume = 0;  // the shops row's running sum (pos/money.h)
    for (int64_t base = 0; base < n_bills; base += kBatch) {
      Status st = db.write([&](db::Transaction& tx) -> Status {
        for (int64_t b = base; b < std::min(n_bills, base + kBatch); ++b) {
          int n_items =
              1 + static_cast<int>(rng() % 4) + (rng() % 5 == 0 ? static_cast<int>(rng() % 5) : 0);
          std::vector<BillItem> items;
          int64_t subtotal = 0;
          for (int k = 0; k < n_items; ++k) {
            size_t idx = order[product_dist(rng)];
            int64_t q = 1 + (rng() % 6 == 0 ? static_cast<int64_t>(rng() % 4) : 0);
            const SeedProduct& sp = products[idx];
            items.push_back({sp.id, sp.name, q, sp.price, sp.price * q});
            subtotal += sp.price * q;
          }
          int64_t discount = rng() % 10 == 0 ? subtotal / 10 : 0;
          int64_t tax = ((subtotal - discount) * 500 + 5000) / 10000;
          int64_t total = subtotal - discount + tax;
          bool is_void = rng() % 25 == 0;
          std::optional<int64_t> customer;
          if (!customers.empty() && rng() % 5 < 2) customer = customers[rng() % customers.size()];
          uint64_t pm = rng() % 20;
          const char* method = pm < 10 ? "cash" : pm < 19 ? "card" : "other";
          auto id = tx.query(
              "INSERT INTO bills(shop_id, number, status, customer_id, employee_id, subtotal, "
              "discount, tax, total, payment_method, notes, created_at, voided_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?) RETURNING id",
              {p.shop_id, ++number, std::string(is_void ? "void" : "paid"),
               internal::nullable(customer), emp->id, subtotal, discount, tax, total,
               std::string(method), times[b],
               is_void ? db::Value(times[b] + 600'000) : db::Value(std::monostate{})});
          if (!id.ok()) return id.status();
          for (const BillItem& it : items) {
            auto r = tx.execute(
                "INSERT INTO bill_items(bill_id, product_id, name, quantity, unit_price, "
                "line_total) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                {(*id)[0].integer(0), it.product_id, it.name, it.quantity, it.unit_price,
                 it.line_total});
            if (!r.ok()) return r.status();
          }
          if (!is_void) paid_volume += subtotal + tax;
          if (customer && !is_void) {
            auto& ct = customer_totals[*customer];
            ct.first += 1;
            ct.second += total;
          }
        }
        return OkStatus();
      });
      if (!st.ok()) return st;
      done += std::min(kBatch, n_bills - base);
      progress(done, total_work, "bills");
    }
    // Make the books agree: bill numbers, the paid volume and customers' totals. (Stock is today's,
    // as if the shelves were restocked as they sold.)
    Status st = db.write([&](db::Transaction& tx) -> Status {
      auto r = tx.execute("UPDATE shops SET bill_seq = ?, paid_volume = ? WHERE id = ?",
                          {number, paid_volume, p.shop_id});
      if (!r.ok()) return r.status();
      for (const auto& [id, ct] : customer_totals) {
        auto c = tx.execute("UPDATE customers SET bill_count = ?, total_spent = ? WHERE id = ?",
                            {ct.first, ct.second, id});
        if (!c.ok()) return c.status();
      }
      return OkStatus();
    });
    if (!st.ok()) return st;
  }
  return logins;
}

}  // namespace tajir::pos
