// tajir-loadgen: replays a POS day against a running tajir server and reports what it cost.
//
//   tajir-loadgen --url http://127.0.0.1:8080 --shops 20 --connections 16 --duration 30
//   tajir-loadgen --url http://127.0.0.1:8080 --rate 500 --duration 30        # open loop
//   tajir-loadgen --url http://127.0.0.1:8080,http://127.0.0.1:8081 ...        # two nodes
//
// It logs in as the demo cashier and owner of shops 1..N (tajir seed makes them) and reads each
// shop's products and customers as the baseline, on the first node. Then its tills, each one
// keep-alive connection to a node (round-robin over the --url nodes, nodes.h), replay the day:
// Zipf-popular shops, products and customers, about 80% reads, 15% bills and 5% edits
// (workload.h). Closed loop by default: a till sends its next request when the last is answered.
// With --rate, open loop: requests fall due on a schedule (Poisson arrivals by default) and each
// latency runs from the time it fell due, so a slow server's queue shows (loop.h). Every read
// that shows a product, customer, bill list or dashboard is checked against what was
// acknowledged, on any node, before it began (oracle.h). It reports throughput, latency (p50 to
// max, for hits, misses and writes apart: latency.h), the hit rate (X-Cache), the reads that
// touched no database and the database statements per request (X-DB-Statements, and the
// servers' /metrics counter, which also counts background work), and the stale reads. It is the
// only writer while it runs. The server sends X-DB-Statements only when started with
// --db-statements-header true; without it, the figures that need it are reported as not
// measured (null in the JSON), never as zero. With --progress FILE it also writes, every
// --progress-every seconds, a CSV line of that interval's measured requests, errors and latency
// (bench/soak.sh plots them).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "http/http.h"
#include "loadgen/http_client.h"
#include "loadgen/latency.h"
#include "loadgen/loop.h"
#include "loadgen/nodes.h"
#include "loadgen/oracle.h"
#include "loadgen/workload.h"
#include "util/args.h"

namespace tajir::loadgen {
namespace {

using nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Settings {
  std::vector<Endpoint> nodes;  // none given: 127.0.0.1:8080
  int shops = 3;
  std::string password = "tajir-demo-2026";
  int connections = 16;
  double duration_s = 30;
  double warmup_s = 5;
  uint64_t requests = 0;  // measured requests at most; 0: no limit
  double rate = 0;        // open loop, requests per second over all tills; 0: closed loop
  Arrivals arrivals = Arrivals::kPoisson;
  double shop_skew = 1.0;
  double product_skew = 0.9;
  uint64_t seed = 42;
  std::string label;
  std::string json_path;
  std::string progress_path;  // a CSV line per progress interval, warm-up included
  double progress_s = 5;
  std::optional<Rhythm> rhythm;  // --rhythm-hour-ms: the day compressed (workload.h)
  int64_t rhythm_hour_ms = 0;
};

// What a worker knows of one shop.
struct Shop {
  int64_t id = 0;
  std::string cashier;  // "Bearer ..." headers
  std::string owner;
  std::vector<int64_t> products;  // by popularity: rank 0 sells most
  std::vector<std::string> product_names;
  std::vector<std::string> categories;
  std::vector<int64_t> customers;  // regulars first
  std::vector<std::string> customer_names;
  int64_t product_pages = 1;
  std::optional<Zipf> product_rank, customer_rank, page_rank;
  std::mutex edit_mu;  // one edit of a shop in flight: acknowledgement order is commit order
  std::mutex bills_mu;
  std::vector<int64_t> recent_bills;  // GUARDED_BY(bills_mu)
};

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "tajir-loadgen: %s\n", why.c_str());
  std::exit(1);
}

json get_json(HttpClient& c, const std::string& target, const std::string& auth) {
  HttpReply r = c.request("GET", target, "", {{"Authorization", auth}});
  if (r.status != 200)
    fail("GET " + target + ": " + std::to_string(r.status) + " " + r.error + r.body);
  return json::parse(r.body);
}

std::string login(HttpClient& c, const std::string& user, const std::string& password) {
  HttpReply r = c.request("POST", "/api/auth/login",
                          json{{"username", user}, {"password", password}}.dump(), {});
  if (r.status != 200)
    fail("login " + user + ": " + std::to_string(r.status) + " " + r.error + r.body);
  return "Bearer " + json::parse(r.body)["token"].get<std::string>();
}

int64_t notes_version(const json& notes) {
  if (!notes.is_string()) return 0;
  const std::string& s = notes.get_ref<const std::string&>();
  constexpr std::string_view kPrefix = "loadgen edit ";
  return s.starts_with(kPrefix) ? std::stoll(s.substr(kPrefix.size())) : 0;
}

CustomerState customer_state(const json& c) {
  return {c["bill_count"].get<int64_t>(), c["total_spent"].get<int64_t>(),
          notes_version(c["notes"])};
}

// Logs in and reads the baseline of shop `n` (1-based, as tajir seed numbers its logins).
void load_shop(HttpClient& c, const Settings& s, int n, Shop& shop, Oracle& oracle,
               std::mt19937_64& rng) {
  shop.cashier = login(c, "cashier" + std::to_string(n), s.password);
  shop.owner = login(c, "owner" + std::to_string(n), s.password);
  shop.id = get_json(c, "/api/shop", shop.owner)["id"].get<int64_t>();
  std::unordered_set<std::string> categories;
  for (int64_t page = 1;; ++page) {
    json j = get_json(c, "/api/products?active=true&per_page=200&page=" + std::to_string(page),
                      shop.owner);
    for (const json& p : j["items"]) {
      shop.products.push_back(p["id"].get<int64_t>());
      shop.product_names.push_back(p["name"].get<std::string>());
      if (p["category"].is_string()) categories.insert(p["category"].get<std::string>());
      oracle.add_product(shop.id, p["id"].get<int64_t>(),
                         {p["price"].get<int64_t>(), p["stock"].get<int64_t>()});
    }
    if (page * 200 >= j["total"].get<int64_t>()) break;
  }
  if (shop.products.empty()) fail("shop " + std::to_string(n) + " has no active products");
  shop.product_pages = (static_cast<int64_t>(shop.products.size()) + 49) / 50;
  shop.categories.assign(categories.begin(), categories.end());
  std::sort(shop.categories.begin(), shop.categories.end());
  // Popularity is a random order of the catalogue, fixed by the seed.
  std::vector<size_t> order(shop.products.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<int64_t> ids;
  std::vector<std::string> names;
  for (size_t i : order) {
    ids.push_back(shop.products[i]);
    names.push_back(shop.product_names[i]);
  }
  shop.products = std::move(ids);
  shop.product_names = std::move(names);
  for (int64_t page = 1; page <= 10; ++page) {  // the first 2,000 customers are the regulars
    json j = get_json(c, "/api/customers?per_page=200&page=" + std::to_string(page), shop.owner);
    for (const json& x : j["items"]) {
      shop.customers.push_back(x["id"].get<int64_t>());
      shop.customer_names.push_back(x["name"].get<std::string>());
      oracle.add_customer(shop.id, x["id"].get<int64_t>(), customer_state(x));
    }
    if (page * 200 >= j["total"].get<int64_t>()) break;
  }
  shop.product_rank.emplace(shop.products.size(), s.product_skew);
  shop.page_rank.emplace(static_cast<size_t>(std::min<int64_t>(shop.product_pages, 20)), 1.2);
  shop.customer_rank.emplace(std::max<size_t>(1, shop.customers.size()), 0.8);
  json d = get_json(c, "/api/dashboard", shop.owner);
  json bills = get_json(c, "/api/bills?per_page=20", shop.owner);
  int64_t newest = bills["items"].empty() ? 0 : bills["items"][0]["number"].get<int64_t>();
  for (const json& b : bills["items"]) shop.recent_bills.push_back(b["id"].get<int64_t>());
  oracle.add_shop(shop.id, {d["bills"]["all_time"].get<int64_t>(),
                            d["revenue"]["all_time"].get<int64_t>(), newest});
}

// --- measurement ------------------------------------------------------------------------------

// The targets read so far: a first read of a target cannot hit (a compulsory miss), unless
// warming or a refill loaded it.
class SeenTargets {
 public:
  bool first(const std::string& target) {
    std::lock_guard lock(mu_);
    return seen_.insert(target).second;
  }

 private:
  std::mutex mu_;
  std::unordered_set<std::string> seen_;
};

struct OpStats {
  uint64_t count = 0, ok = 0, hits = 0, conflicts = 0, errors = 0, first = 0;
  uint64_t answered = 0;  // replies (status != 0)
  uint64_t told = 0;      // replies with X-DB-Statements; no_db and statements count those
  uint64_t no_db = 0, statements = 0;
  std::vector<uint32_t> latency_us;

  void merge(const OpStats& o) {
    count += o.count, ok += o.ok, hits += o.hits, first += o.first;
    conflicts += o.conflicts, errors += o.errors;
    answered += o.answered, told += o.told, no_db += o.no_db, statements += o.statements;
    latency_us.insert(latency_us.end(), o.latency_us.begin(), o.latency_us.end());
  }
  // Whether every reply said what it cost the database.
  bool statements_known() const { return told == answered; }
};

uint64_t server_statements(HttpClient& c) {
  HttpReply r = c.request("GET", "/metrics", "", {});
  if (r.status != 200) return 0;
  constexpr std::string_view kName = "\ntajir_db_statements_total ";
  size_t at = r.body.find(kName);
  return at == std::string::npos ? 0 : std::stoull(r.body.substr(at + kName.size()));
}

// The statements every node has run: one server named twice is read once.
uint64_t server_statements(const std::vector<std::unique_ptr<HttpClient>>& nodes) {
  uint64_t sum = 0;
  for (const auto& c : nodes) sum += server_statements(*c);
  return sum;
}

// What one worker did since the progress line before: its requests' latencies and failures.
class Interval {
 public:
  void add(uint32_t latency_us, bool failed) {
    std::lock_guard lock(mu_);  // taken by the reporter once an interval: never contended long
    latency_us_.push_back(latency_us);
    errors_ += failed;
  }
  // Appends this interval's latencies to *latency_us, adds its failures to *errors, and starts
  // the next interval.
  void take(std::vector<uint32_t>* latency_us, uint64_t* errors) {
    std::lock_guard lock(mu_);
    latency_us->insert(latency_us->end(), latency_us_.begin(), latency_us_.end());
    latency_us_.clear();
    *errors += errors_;
    errors_ = 0;
  }

 private:
  std::mutex mu_;
  std::vector<uint32_t> latency_us_;  // GUARDED_BY(mu_)
  uint64_t errors_ = 0;               // GUARDED_BY(mu_)
};

// --- the workers ------------------------------------------------------------------------------

// A till: the loop (loop.h) has it send its requests, closed or open, and record the measured.
class Worker final : public Connection {
 public:
  Worker(const Settings& s, std::vector<std::unique_ptr<Shop>>& shops, const Zipf& shop_rank,
         const Mix& mix, Oracle& oracle, SeenTargets& seen, int index, size_t node)
      : s_(s),
        shops_(shops),
        shop_rank_(shop_rank),
        mix_(mix),
        oracle_(oracle),
        seen_(seen),
        index_(index),
        node_(node),
        client_(s.nodes[node].host, s.nodes[node].port),
        rng_(s.seed * 7919 + static_cast<uint64_t>(index)) {}

  void send() override {
    sent_ms_ = now_ms();
    Shop& shop = *shops_[shop_rank_(rng_)];
    op_ = mix_(rng_);
    first_read_ = false;
    method_ = "GET";
    reply_ = step(shop, op_);
  }

  // Latency from the time the request fell due (open loop) or was sent (closed) to its answer,
  // its checks included.
  void record(const Timing& t) override {
    const HttpReply& r = reply_;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.done - t.due).count();
    auto latency = static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX));
    OpStats& st = stats_[static_cast<size_t>(op_)];
    ++st.count;
    st.latency_us.push_back(latency);
    latencies_.add(classify(method_, r.x_cache), latency);
    ++measured_;
    if (!s_.progress_path.empty()) {
      interval_.add(latency, r.status == 0 || (r.status >= 400 && r.status != 409));
    }
    if (r.status != 0) ++st.answered;
    if (r.db_statements) {
      ++st.told;
      st.statements += *r.db_statements;
      if (*r.db_statements == 0) ++st.no_db;
    }
    if (r.x_cache == "HIT") ++st.hits;
    if (first_read_) ++st.first;
    if (s_.rhythm && is_read(op_) && s_.rhythm->busy(sent_ms_) &&
        s_.rhythm->into_hour(sent_ms_) < 0.25 && !s_.rhythm->busy(sent_ms_ - s_.rhythm_hour_ms)) {
      BusyStart& b = busy_start_[static_cast<size_t>(op_)];  // the first quarter of a busy period
      ++b.reads;
      if (r.x_cache == "HIT") ++b.hits;
    }
    if (r.status >= 200 && r.status < 300)
      ++st.ok;
    else if (r.status == 409)
      ++st.conflicts;
    else
      ++st.errors;
    if (r.status == 0 || (r.status >= 400 && r.status != 409)) note_error(op_, r);
  }

  const std::array<OpStats, kNumOps>& stats() const { return stats_; }
  struct BusyStart {
    uint64_t reads = 0, hits = 0;
  };
  const std::array<BusyStart, kNumOps>& busy_start() const { return busy_start_; }
  const Latencies& latencies() const { return latencies_; }
  Interval& interval() { return interval_; }
  const std::vector<std::string>& errors() const { return error_examples_; }
  size_t node() const { return node_; }
  uint64_t measured() const { return measured_; }

 private:
  // The popularity rank's item: with a rhythm, that hour of the day's own (Rhythm::item).
  size_t of_hour(size_t rank, size_t n) const {
    return s_.rhythm ? s_.rhythm->item(rank, n, sent_ms_) : rank;
  }
  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  HttpReply step(Shop& shop, Op op) {
    switch (op) {
      case Op::kProductsPage: {
        const size_t page =
            of_hour((*shop.page_rank)(rng_), static_cast<size_t>(shop.product_pages));
        return read_products(shop, "/api/products?page=" + std::to_string(page + 1));
      }
      case Op::kProductsByCategory:
        return read_products(
            shop, "/api/products?category=" + http::percent_encode(pick(shop.categories)));
      case Op::kProductSearch: {
        const std::string& name = shop.product_names[(*shop.product_rank)(rng_)];
        return read_products(shop, "/api/products?q=" + http::percent_encode(name.substr(0, 3)));
      }
      case Op::kProduct: {
        int64_t id = shop.products[of_hour((*shop.product_rank)(rng_), shop.products.size())];
        uint64_t began = oracle_.now();
        HttpReply r = get(shop, "/api/products/" + std::to_string(id));
        if (r.status == 200)
          check_product(began, shop, json::parse(r.body),
                        "GET /api/products/" + std::to_string(id));
        return r;
      }
      case Op::kCustomersPage:
        return read_customers(shop, "/api/customers");
      case Op::kCustomerSearch: {
        if (shop.customers.empty()) return read_customers(shop, "/api/customers");
        const std::string& name = shop.customer_names[(*shop.customer_rank)(rng_)];
        return read_customers(
            shop, "/api/customers?q=" + http::percent_encode(name.substr(0, name.find(' '))));
      }
      case Op::kCustomer: {
        if (shop.customers.empty()) return read_customers(shop, "/api/customers");
        int64_t id = shop.customers[(*shop.customer_rank)(rng_)];
        uint64_t began = oracle_.now();
        HttpReply r = get(shop, "/api/customers/" + std::to_string(id));
        if (r.status == 200) {
          json c = json::parse(r.body);
          oracle_.check_customer(began, shop.id, id, customer_state(c));
        }
        return r;
      }
      case Op::kBillsPage: {
        uint64_t began = oracle_.now();
        HttpReply r = get(shop, "/api/bills");
        if (r.status == 200) {
          // The newest number on the page: bills made in the same millisecond by two tills may
          // list in either order.
          int64_t newest = 0;
          const json page = json::parse(r.body);  // named: a temporary would die before the loop
          for (const json& b : page.at("items"))
            newest = std::max(newest, b["number"].get<int64_t>());
          if (newest > 0) oracle_.check_newest_bill(began, shop.id, newest);
        }
        return r;
      }
      case Op::kBill: {
        int64_t id = 0;
        {
          std::lock_guard lock(shop.bills_mu);
          if (shop.recent_bills.empty()) return get(shop, "/api/bills");
          id = shop.recent_bills[rng_() % shop.recent_bills.size()];
        }
        return get(shop, "/api/bills/" + std::to_string(id));
      }
      case Op::kDashboard: {
        uint64_t began = oracle_.now();
        HttpReply r = get(shop, "/api/dashboard");
        if (r.status == 200) {
          json d = json::parse(r.body);
          oracle_.check_dashboard(began, shop.id, d["bills"]["all_time"].get<int64_t>(),
                                  d["revenue"]["all_time"].get<int64_t>());
        }
        return r;
      }
      case Op::kCreateBill:
        return create_bill(shop);
      case Op::kEditPrice: {
        int64_t id =
            shop.products[rng_() % shop.products.size()];  // back-office edits: any product
        std::lock_guard lock(shop.edit_mu);
        int64_t price = oracle_.product(shop.id, id).price + 1 + static_cast<int64_t>(rng_() % 50);
        HttpReply r = write("PUT", "/api/products/" + std::to_string(id),
                            json{{"price", price}}.dump(), {{"Authorization", shop.owner}});
        if (r.status == 200) oracle_.price_acknowledged(shop.id, id, price);
        return r;
      }
      case Op::kEditCustomer: {
        if (shop.customers.empty()) return read_customers(shop, "/api/customers");
        int64_t id = shop.customers[rng_() % shop.customers.size()];
        std::lock_guard lock(shop.edit_mu);
        int64_t version = oracle_.customer(shop.id, id).notes_version + 1;
        HttpReply r = write("PUT", "/api/customers/" + std::to_string(id),
                            json{{"notes", "loadgen edit " + std::to_string(version)}}.dump(),
                            {{"Authorization", shop.owner}});
        if (r.status == 200) oracle_.notes_acknowledged(shop.id, id, version);
        return r;
      }
    }
    return {};
  }

  HttpReply get(Shop& shop, const std::string& target) {
    first_read_ = seen_.first(std::to_string(shop.id) + target);
    method_ = "GET";
    return client_.request("GET", target, "", {{"Authorization", shop.cashier}});
  }

  HttpReply write(std::string_view method, const std::string& target, const std::string& body,
                  const Headers& headers) {
    method_ = method;
    return client_.request(method, target, body, headers);
  }

  HttpReply read_products(Shop& shop, const std::string& target) {
    uint64_t began = oracle_.now();
    HttpReply r = get(shop, target);
    if (r.status == 200) {
      const json page = json::parse(r.body);  // named: a temporary would die before the loop
      for (const json& p : page.at("items"))
        check_product(began, shop, p, "GET " + target + " " + r.x_cache);
    }
    return r;
  }

  HttpReply read_customers(Shop& shop, const std::string& target) {
    uint64_t began = oracle_.now();
    HttpReply r = get(shop, target);
    if (r.status == 200) {
      const json page = json::parse(r.body);  // named: a temporary would die before the loop
      for (const json& c : page.at("items")) {
        oracle_.check_customer(began, shop.id, c["id"].get<int64_t>(), customer_state(c));
      }
    }
    return r;
  }

  void check_product(uint64_t began, const Shop& shop, const json& p, const std::string& where) {
    oracle_.check_product(began, shop.id, p["id"].get<int64_t>(), p["price"].get<int64_t>(),
                          p["stock"].get<int64_t>(), where);
  }

  // 1 to 4 lines of popular products the shelf still has, a regular customer on 40% of bills.
  HttpReply create_bill(Shop& shop) {
    json items = json::array();
    std::unordered_set<int64_t> chosen;
    int lines = 1 + static_cast<int>(rng_() % 4);
    for (int tries = 0; static_cast<int>(items.size()) < lines && tries < 20; ++tries) {
      int64_t id = shop.products[(*shop.product_rank)(rng_)];
      int64_t quantity = 1 + static_cast<int64_t>(rng_() % 3);
      if (chosen.contains(id) || oracle_.product(shop.id, id).stock < quantity) continue;
      chosen.insert(id);
      items.push_back({{"product_id", id}, {"quantity", quantity}});
    }
    if (items.empty()) return get(shop, "/api/products");  // the shop sold out of its best-sellers
    json body{{"items", items}, {"payment_method", (rng_() % 3 == 0) ? "card" : "cash"}};
    if (!shop.customers.empty() && rng_() % 10 < 4)
      body["customer_id"] = shop.customers[(*shop.customer_rank)(rng_)];
    std::string key = "loadgen-" + std::to_string(s_.seed) + "-" + std::to_string(index_) + "-" +
                      std::to_string(++bills_);
    HttpReply r = write("POST", "/api/bills", body.dump(),
                        {{"Authorization", shop.cashier}, {"Idempotency-Key", key}});
    if (r.status == 201) {
      json b = json::parse(r.body);
      BillAck ack{b["number"].get<int64_t>(),
                  b["total"].get<int64_t>(),
                  b["customer_id"].is_number() ? b["customer_id"].get<int64_t>() : 0,
                  {}};
      for (const json& line : b["items"]) {
        ack.lines.push_back({line["product_id"].get<int64_t>(), line["quantity"].get<int64_t>()});
      }
      oracle_.bill_acknowledged(shop.id, ack);
      std::lock_guard lock(shop.bills_mu);
      if (shop.recent_bills.size() >= 50) shop.recent_bills.erase(shop.recent_bills.begin());
      shop.recent_bills.push_back(b["id"].get<int64_t>());
    }
    return r;
  }

  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[rng_() % v.size()];
  }

  void note_error(Op op, const HttpReply& r) {
    if (error_examples_.size() < 5) {
      error_examples_.push_back(std::string(op_name(op)) + ": " + std::to_string(r.status) + " " +
                                r.error + r.body.substr(0, 200));
    }
  }

  const Settings& s_;
  std::vector<std::unique_ptr<Shop>>& shops_;
  const Zipf& shop_rank_;
  const Mix& mix_;
  Oracle& oracle_;
  SeenTargets& seen_;
  bool first_read_ = false;  // the last step read a target no one had read before
  int index_;
  size_t node_;
  HttpClient client_;
  std::mt19937_64 rng_;
  uint64_t bills_ = 0;
  // The request send() made last: what record() counts.
  Op op_ = Op::kProduct;
  std::string_view method_ = "GET";
  HttpReply reply_;
  int64_t sent_ms_ = 0;  // unix ms at send()
  std::array<BusyStart, kNumOps> busy_start_;
  std::array<OpStats, kNumOps> stats_;
  Latencies latencies_;
  uint64_t measured_ = 0;
  std::vector<std::string> error_examples_;
  Interval interval_;
};

// The --progress file: waits as told, writing a line at the end of each interval (counted from
// the start, so the lines keep their rhythm across the warm-up's end).
class Progress {
  using Steady = std::chrono::steady_clock;

 public:
  Progress(const Settings& s, std::vector<std::unique_ptr<Worker>>& workers)
      : s_(s), workers_(workers), start_(Steady::now()), next_(start_) {
    if (s.progress_path.empty()) return;
    out_.open(s.progress_path);
    if (!out_) fail("cannot write " + s.progress_path);
    out_ << "seconds,phase,requests,errors,p50_ms,p99_ms\n" << std::flush;
  }

  bool enabled() const { return out_.is_open(); }

  void wait(double seconds, const char* phase) {
    const auto until = Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                           std::chrono::duration<double>(seconds));
    if (!out_.is_open()) {
      std::this_thread::sleep_until(until);
      return;
    }
    const auto every =
        std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(s_.progress_s));
    for (;;) {
      while (next_ <= Steady::now()) next_ += every;
      if (next_ > until) break;
      std::this_thread::sleep_until(next_);
      write_line(phase);
    }
    std::this_thread::sleep_until(until);
  }

 private:
  void write_line(const char* phase) {
    std::vector<uint32_t> latency_us;
    uint64_t errors = 0;
    for (auto& w : workers_) w->interval().take(&latency_us, &errors);
    char line[160];
    std::snprintf(line, sizeof line, "%.1f,%s,%zu,%llu,%.3f,%.3f\n",
                  std::chrono::duration<double>(Steady::now() - start_).count(), phase,
                  latency_us.size(), static_cast<unsigned long long>(errors),
                  percentile_ms(latency_us, 0.5), percentile_ms(latency_us, 0.99));
    out_ << line << std::flush;
  }

  const Settings& s_;
  std::vector<std::unique_ptr<Worker>>& workers_;
  const Steady::time_point start_;
  Steady::time_point next_;
  std::ofstream out_;
};

// --- the command ------------------------------------------------------------------------------

Settings parse(int argc, char** argv) {
  Settings s;
  ArgReader args(argc, argv);
  auto text = [&] {
    auto v = args.value();
    if (!v.ok()) fail(v.status().message());
    return std::string(*v);
  };
  auto number = [&](double lo, double hi) {
    std::string v = text();
    double x = 0;
    try {
      x = std::stod(v);
    } catch (...) {
      fail("bad number for " + std::string(args.flag()));
    }
    if (x < lo || x > hi) fail(std::string(args.flag()) + " out of range");
    return x;
  };
  while (args.next()) {
    std::string_view f = args.flag();
    if (f == "--url") {
      if (Status st = add_urls(text(), s.nodes); !st.ok()) fail(st.message());
    } else if (f == "--shops") {
      s.shops = static_cast<int>(number(1, 10000));
    } else if (f == "--connections") {
      s.connections = static_cast<int>(number(1, 1024));
    } else if (f == "--duration") {
      s.duration_s = number(0.1, 86400);
    } else if (f == "--warmup") {
      s.warmup_s = number(0, 3600);
    } else if (f == "--requests") {
      s.requests = static_cast<uint64_t>(number(1, 1e12));
    } else if (f == "--rate") {
      s.rate = number(0.1, 1e5);
    } else if (f == "--arrivals") {
      std::string a = text();
      if (a != "poisson" && a != "constant") fail("--arrivals is poisson or constant");
      s.arrivals = a == "poisson" ? Arrivals::kPoisson : Arrivals::kConstant;
    } else if (f == "--shop-skew") {
      s.shop_skew = number(0, 5);
    } else if (f == "--product-skew") {
      s.product_skew = number(0, 5);
    } else if (f == "--seed") {
      s.seed = static_cast<uint64_t>(number(0, 1e15));
    } else if (f == "--rhythm-hour-ms") {
      s.rhythm_hour_ms = static_cast<int64_t>(number(100, 3'600'000));
      if (3'600'000 % s.rhythm_hour_ms != 0) fail("--rhythm-hour-ms must divide 3600000");
      s.rhythm.emplace(s.rhythm_hour_ms);
    } else if (f == "--progress-every") {
      s.progress_s = number(0.1, 3600);
    } else if (f == "--password" || f == "--label" || f == "--json" || f == "--progress") {
      (f == "--password" ? s.password
       : f == "--label"  ? s.label
       : f == "--json"   ? s.json_path
                         : s.progress_path) = text();
    } else if (f == "--help" || f == "-h") {
      std::puts(
          "usage: tajir-loadgen [--url http://127.0.0.1:8080[,URL...]]... [--shops 3]\n"
          "         [--connections 16] [--duration 30] [--warmup 5] [--requests N]\n"
          "         [--rate N [--arrivals poisson|constant]] [--shop-skew 1.0]\n"
          "         [--product-skew 0.9] [--seed 42] [--password tajir-demo-2026] [--label TEXT]\n"
          "         [--json FILE] [--progress FILE] [--progress-every 5] [--rhythm-hour-ms MS]\n"
          "  --url       a node; repeat it or give a comma list: the tills are spread round-robin\n"
          "  --requests  stop after N measured requests (or --duration, whichever comes first)\n"
          "  --rate      open loop: N requests per second over all tills, each latency from the\n"
          "              time it fell due; without it, closed loop\n"
          "  --progress  a CSV line of the measured requests, errors and latency of each interval\n"
          "  --rhythm-hour-ms  with --rate: a day compressed, an hour lasting MS; --rate is the\n"
          "              peak's, each hour has its share of it and its own best-sellers");
      std::exit(0);
    } else {
      fail("unknown argument '" + std::string(f) + "' (see --help)");
    }
  }
  if (s.nodes.empty()) s.nodes.push_back({"127.0.0.1", 8080});
  if (s.rhythm && s.rate <= 0)
    fail("--rhythm-hour-ms needs --rate (an open loop: the rate follows the day)");
  return s;
}

json summary_json(const Summary& x) {
  return {{"count", x.count},   {"p50_ms", x.p50_ms},   {"p90_ms", x.p90_ms},
          {"p99_ms", x.p99_ms}, {"p999_ms", x.p999_ms}, {"max_ms", x.max_ms}};
}

// Open loop: how the schedule was kept. Null for a closed loop.
json open_loop_json(const Settings& s, const LoopReport& r, const Bounds& b) {
  if (!r.open) return json();
  return {
      {"target_rate", r.target_rate},
      {"achieved_rate", r.achieved_rate},
      {"arrivals", arrivals_name(s.arrivals)},
      {"seed", s.seed},
      {"due", r.due},
      {"sent", r.measured},
      {"late", r.late},
      {"late_after_ms", std::chrono::duration<double, std::milli>(b.late_after).count()},
      {"unsent", r.unsent},
      {"max_start_delay_ms", std::chrono::duration<double, std::milli>(r.max_start_delay).count()}};
}

// The latency table of the text report: hits, misses, writes, reads, all.
void print_latency(const json& latency, bool open) {
  std::printf("  %-10s %9s %9s %9s %9s %9s %9s   (ms, from %s)\n", "latency", "count", "p50", "p90",
              "p99", "p99.9", "max",
              open ? "the time each request fell due" : "each request's send");
  for (const char* name : {"hits", "misses", "writes", "reads", "all"}) {
    const json& x = latency.at(name);
    std::printf("  %-10s %9llu %9.2f %9.2f %9.2f %9.2f %9.2f\n", name,
                static_cast<unsigned long long>(x["count"].get<uint64_t>()),
                x["p50_ms"].get<double>(), x["p90_ms"].get<double>(), x["p99_ms"].get<double>(),
                x["p999_ms"].get<double>(), x["max_ms"].get<double>());
  }
}

[[noreturn]] void fail_now(const std::string& why) {
  std::fflush(stdout);
  std::fprintf(stderr, "tajir-loadgen: %s\n", why.c_str());
  std::_Exit(1);  // tills' threads are still running: no destructors
}

int run(const Settings& s) {
  Oracle oracle;
  std::vector<std::unique_ptr<Shop>> shops;
  {
    HttpClient c(s.nodes[0].host, s.nodes[0].port);
    std::mt19937_64 rng(s.seed);
    for (int n = 1; n <= s.shops; ++n) {
      shops.push_back(std::make_unique<Shop>());
      load_shop(c, s, n, *shops.back(), oracle, rng);
    }
  }
  std::string plan = s.rate > 0 ? "open loop at " + std::to_string(static_cast<int64_t>(s.rate)) +
                                      " req/s (" + std::string(arrivals_name(s.arrivals)) + ")"
                                : "closed loop";
  std::fprintf(stderr,
               "tajir-loadgen: %d shops loaded; %d connections to %zu node(s), %s, %.0f s warm-up, "
               "%.0f s measured\n",
               s.shops, s.connections, s.nodes.size(), plan.c_str(), s.warmup_s, s.duration_s);
  Zipf shop_rank(shops.size(), s.shop_skew);
  Mix mix = Mix::pos_day();
  SeenTargets seen;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<Connection*> tills;
  for (int i = 0; i < s.connections; ++i) {
    size_t node = node_of_till(static_cast<size_t>(i), s.nodes.size());
    workers.push_back(std::make_unique<Worker>(s, shops, shop_rank, mix, oracle, seen, i, node));
    tills.push_back(workers.back().get());
  }
  std::vector<std::unique_ptr<HttpClient>> metrics;
  for (const Endpoint& e : distinct(s.nodes))
    metrics.push_back(std::make_unique<HttpClient>(e.host, e.port));

  using std::chrono::duration_cast;
  const Bounds bounds{.warmup = duration_cast<Nanos>(std::chrono::duration<double>(s.warmup_s)),
                      .duration = duration_cast<Nanos>(std::chrono::duration<double>(s.duration_s)),
                      .requests = s.requests};
  std::optional<Schedule> schedule;
  if (s.rate > 0)
    schedule.emplace(s.rate, s.arrivals, s.seed, s.rhythm ? &*s.rhythm : nullptr,
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  // A till still in a request a minute after the end is stuck: give up rather than wait forever.
  const auto deadline =
      std::chrono::steady_clock::now() + bounds.warmup + bounds.duration + std::chrono::minutes(1);
  SteadyClock clock;
  Loop loop(clock, bounds, std::move(schedule));
  loop.start(tills);
  Progress progress(s, workers);
  if (progress.enabled()) {
    progress.wait(s.warmup_s, "warmup");
  } else {
    clock.sleep_until(loop.measure_start());
  }
  uint64_t statements_before = server_statements(metrics);
  if (progress.enabled()) progress.wait(s.duration_s, "measured");
  if (!loop.wait(deadline)) fail_now("a till's request has not returned a minute after the end");
  uint64_t statements_after = server_statements(metrics);
  const LoopReport looped = loop.report();
  const double seconds = looped.seconds;

  std::array<OpStats, kNumOps> by_op;
  OpStats reads, writes, all;
  Latencies latencies;
  std::vector<std::string> errors;
  std::vector<uint64_t> by_node(s.nodes.size());
  std::array<Worker::BusyStart, kNumOps> busy_start;
  uint64_t busy_start_reads = 0, busy_start_hits = 0;
  for (const auto& w : workers) {
    for (size_t i = 0; i < kNumOps; ++i) {
      busy_start[i].reads += w->busy_start()[i].reads;
      busy_start[i].hits += w->busy_start()[i].hits;
      busy_start_reads += w->busy_start()[i].reads;
      busy_start_hits += w->busy_start()[i].hits;
    }
    for (size_t i = 0; i < kNumOps; ++i) by_op[i].merge(w->stats()[i]);
    latencies.merge(w->latencies());
    by_node[w->node()] += w->measured();
    errors.insert(errors.end(), w->errors().begin(), w->errors().end());
  }
  for (size_t i = 0; i < kNumOps; ++i) {
    (is_read(static_cast<Op>(i)) ? reads : writes).merge(by_op[i]);
    all.merge(by_op[i]);
  }
  auto ratio = [](uint64_t a, uint64_t b) {
    return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
  };
  // A figure from X-DB-Statements: null unless every reply carried it (a missing header is not 0).
  auto told = [&](const OpStats& o, uint64_t part) {
    return o.statements_known() ? json(ratio(part, o.told)) : json();
  };
  json latency = json::object();
  for (size_t i = 0; i < kNumClasses; ++i) {
    auto c = static_cast<RequestClass>(i);
    latency[std::string(class_name(c))] = summary_json(summarize(latencies.of(c)));
  }
  std::vector<uint32_t> read_us = latencies.reads();
  latency["reads"] = summary_json(summarize(read_us));
  latency["all"] = summary_json(summarize(all.latency_us));
  json urls = json::array();
  for (const Endpoint& e : s.nodes) urls.push_back(e.url());

  json out{
      {"label", s.label},
      {"mode", looped.open ? "open" : "closed"},
      {"urls", urls},
      {"requests_by_node", by_node},
      {"shops", s.shops},
      {"connections", s.connections},
      {"seconds", seconds},
      {"requests", all.count},
      {"throughput", seconds > 0 ? static_cast<double>(all.count) / seconds : 0.0},
      {"reads", reads.count},
      {"writes", writes.count},
      {"read_p50_ms", percentile_ms(reads.latency_us, 0.5)},
      {"read_p99_ms", percentile_ms(reads.latency_us, 0.99)},
      {"write_p50_ms", percentile_ms(writes.latency_us, 0.5)},
      {"write_p99_ms", percentile_ms(writes.latency_us, 0.99)},
      {"p50_ms", percentile_ms(all.latency_us, 0.5)},
      {"p99_ms", percentile_ms(all.latency_us, 0.99)},
      {"latency", latency},
      {"open_loop", open_loop_json(s, looped, bounds)},
      {"hit_rate", ratio(reads.hits, reads.count)},
      {"first_reads", ratio(reads.first, reads.count)},
      {"reads_without_db", told(reads, reads.no_db)},
      {"statements_per_request", told(all, all.statements)},
      {"statements_per_read", told(reads, reads.statements)},
      {"server_statements_per_request", ratio(statements_after - statements_before, all.count)},
      {"conflicts", all.conflicts},
      {"errors", all.errors},
      {"checks", oracle.checks()},  // with the warm-up: a stale read then counts too
      {"stale_reads", oracle.stale_count()},
      {"stale_examples", oracle.stale()},
      {"error_examples", errors}};
  json ops = json::object();
  for (size_t i = 0; i < kNumOps; ++i) {
    OpStats& o = by_op[i];
    ops[std::string(op_name(static_cast<Op>(i)))] = {{"count", o.count},
                                                     {"hit_rate", ratio(o.hits, o.count)},
                                                     {"first_reads", ratio(o.first, o.count)},
                                                     {"statements", told(o, o.statements)},
                                                     {"p50_ms", percentile_ms(o.latency_us, 0.5)},
                                                     {"p99_ms", percentile_ms(o.latency_us, 0.99)},
                                                     {"conflicts", o.conflicts},
                                                     {"errors", o.errors}};
  }
  out["by_op"] = ops;
  if (s.rhythm) {  // the reads of the first quarter hour of each busy period, and their hits
    out["rhythm"] = {{"hour_ms", s.rhythm_hour_ms},
                     {"busy_start_reads", busy_start_reads},
                     {"busy_start_hit_rate", ratio(busy_start_hits, busy_start_reads)}};
    json by_op_start = json::object();
    for (size_t i = 0; i < kNumOps; ++i) {
      if (busy_start[i].reads == 0) continue;
      by_op_start[std::string(op_name(static_cast<Op>(i)))] = {
          {"reads", busy_start[i].reads},
          {"hit_rate", ratio(busy_start[i].hits, busy_start[i].reads)}};
    }
    out["rhythm"]["busy_start_by_op"] = by_op_start;
  }

  std::printf("%s%s%.1f s, %d shops, %d connections to %zu node(s), %s\n", s.label.c_str(),
              s.label.empty() ? "" : ": ", seconds, s.shops, s.connections, s.nodes.size(),
              plan.c_str());
  auto number = [](const json& v, const char* format, double scale = 1) {
    if (v.is_null()) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, format, scale * v.get<double>());
    return std::string(buf);
  };
  std::printf("  %-22s %8s %8s %8s %9s %9s %9s\n", "operation", "count", "hit", "first",
              "stmts/req", "p50 ms", "p99 ms");
  for (const auto& [name, o] : ops.items()) {
    std::printf("  %-22s %8llu %7.1f%% %7.1f%% %9s %9.2f %9.2f\n", name.c_str(),
                static_cast<unsigned long long>(o["count"].get<uint64_t>()),
                100 * o["hit_rate"].get<double>(), 100 * o["first_reads"].get<double>(),
                number(o["statements"], "%.2f").c_str(), o["p50_ms"].get<double>(),
                o["p99_ms"].get<double>());
  }
  const std::string database =
      out["reads_without_db"].is_null()
          ? "reads that touched no database and statements per request: not measured (the server "
            "sent no "
            "X-DB-Statements header; serve with --db-statements-header true)"
          : "reads that touched no database " + number(out["reads_without_db"], "%.1f%%", 100) +
                "; statements per request " + number(out["statements_per_request"], "%.2f");
  std::printf(
      "  throughput %.0f req/s; reads p50 %.2f ms p99 %.2f ms; writes p50 %.2f ms p99 %.2f ms\n"
      "  hit rate %.1f%% (first reads of a target %.1f%%); %s "
      "(server-wide, with background work: %.2f statements per request)\n"
      "  stale reads %llu of %llu checks; sold-out conflicts %llu; errors %llu\n",
      out["throughput"].get<double>(), out["read_p50_ms"].get<double>(),
      out["read_p99_ms"].get<double>(), out["write_p50_ms"].get<double>(),
      out["write_p99_ms"].get<double>(), 100 * out["hit_rate"].get<double>(),
      100 * out["first_reads"].get<double>(), database.c_str(),
      out["server_statements_per_request"].get<double>(),
      static_cast<unsigned long long>(oracle.stale_count()),
      static_cast<unsigned long long>(oracle.checks()),
      static_cast<unsigned long long>(all.conflicts), static_cast<unsigned long long>(all.errors));
  if (s.rhythm) {
    std::printf(
        "  rhythm: an hour is %lld ms; the first quarter hour of each busy period: %llu reads, "
        "hit rate %.1f%%\n",
        static_cast<long long>(s.rhythm_hour_ms), static_cast<unsigned long long>(busy_start_reads),
        100 * out["rhythm"]["busy_start_hit_rate"].get<double>());
  }
  print_latency(latency, looped.open);
  if (looped.open) {
    std::printf(
        "  open loop: target %.0f req/s (%s arrivals, seed %llu), achieved %.0f req/s; %llu of "
        "%llu requests sent more than %.0f ms after they fell due (longest wait %.1f ms), %llu "
        "not sent by the end\n",
        looped.target_rate, std::string(arrivals_name(s.arrivals)).c_str(),
        static_cast<unsigned long long>(s.seed), looped.achieved_rate,
        static_cast<unsigned long long>(looped.late), static_cast<unsigned long long>(looped.due),
        out["open_loop"]["late_after_ms"].get<double>(),
        out["open_loop"]["max_start_delay_ms"].get<double>(),
        static_cast<unsigned long long>(looped.unsent));
  }
  if (s.nodes.size() > 1) {
    std::printf("  requests by node:");
    for (size_t i = 0; i < s.nodes.size(); ++i)
      std::printf(" %s %llu", s.nodes[i].url().c_str(),
                  static_cast<unsigned long long>(by_node[i]));
    std::printf("\n");
  }
  for (const auto& e : oracle.stale()) std::printf("  STALE %s\n", e.c_str());
  for (const auto& e : errors) std::printf("  ERROR %s\n", e.c_str());
  if (!s.json_path.empty()) {
    std::ofstream f(s.json_path);
    f << out.dump(2) << "\n";
    if (!f) fail("cannot write " + s.json_path);
  }
  return oracle.stale_count() == 0 && all.errors == 0 ? 0 : 2;
}

}  // namespace
}  // namespace tajir::loadgen

int main(int argc, char** argv) { return tajir::loadgen::run(tajir::loadgen::parse(argc, argv)); }
