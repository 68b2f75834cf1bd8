// Pos: the point-of-sale operations, over a db::Database. It knows nothing of HTTP.
//
// Every operation takes the Principal it acts for and is scoped to the principal's shop: an id
// of another shop is kNotFound, never kPermissionDenied, so ids leak nothing. Role checks are
// the API layer's (one table of routes and roles), but for what a cashier may put on a bill,
// which needs the product's price; tenancy is enforced here, in every query.
// Every write is one transaction: a failure changes nothing.
//
// Errors: kInvalidArgument (with the field) for input the database would reject or that breaks
// a rule (discount above subtotal, amounts past pos/money.h's limits), kNotFound,
// kAlreadyExists (duplicate sku, username), kFailedPrecondition (insufficient stock, inactive
// product, already void), kUnprocessable (an idempotency key reused for another request),
// kPermissionDenied (what a cashier may not do to a bill), kUnauthenticated (bad credentials
// or token), kUnavailable / kInternal from the database.
//
// Thread safety: thread-safe; it holds no state but the database, its options and a dummy
// password hash made at construction.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.h"
#include "pos/cache_history.h"
#include "pos/types.h"
#include "util/status.h"

namespace tajir::pos {

struct PosOptions {
  std::chrono::hours token_lifetime{24 * 30};
  // libsodium's argon2id limits; INTERACTIVE is its recommended minimum for logins.
  unsigned long long pwhash_opslimit = 2;  // crypto_pwhash_OPSLIMIT_INTERACTIVE
  size_t pwhash_memlimit = 64ull << 20;    // crypto_pwhash_MEMLIMIT_INTERACTIVE
  // Password hashes (argon2id: tens of ms of a core and 64 MiB each) running at once; past it
  // a login, registration or password change is refused at once with kUnavailable (reason
  // "busy"), so a flood of logins cannot hold every worker. 0: one per two cores, at least 1.
  int max_concurrent_hashes = 0;
};

struct AuthResult {
  std::string token;
  User user;
};

struct ShopInput {
  std::optional<std::string> name, currency, timezone;
  std::optional<int64_t> cashier_discount_limit_bp;
};

class Pos {
 public:
  Pos(db::Database& db, PosOptions options = {});

  // --- auth ---
  Result<AuthResult> register_shop(std::string_view shop_name, std::string_view username,
                                   std::string_view password);
  Result<AuthResult> login(std::string_view username, std::string_view password);
  Status logout(std::string_view token);
  // The principal a bearer token stands for; kUnauthenticated when unknown, expired or revoked.
  Result<Principal> authenticate(std::string_view token);
  // Whether the shop exists (the operator names shops by id).
  Result<bool> shop_exists(int64_t shop_id);
  Result<std::vector<int64_t>> shop_ids();

  // --- shop ---
  Result<Shop> shop(const Principal& p);
  // The shop as the update left it, read in the update's own transaction.
  Result<Shop> update_shop(const Principal& p, const ShopInput& in);

  // --- products ---
  // With `change_seq`, the shop's change number in the same snapshot goes there (a product's
  // stock moves only with a sale or a void, but edits move it too: see api/maintained.h).
  Result<Page<Product>> list_products(const Principal& p, const ProductFilter& f,
                                      const PageRequest& page, int64_t* change_seq = nullptr);
  Result<Product> product(const Principal& p, int64_t id, int64_t* change_seq = nullptr);
  // The shop's products among `ids`, in one query; ids of other shops or gone are left out.
  Result<std::vector<Product>> products_by_ids(const Principal& p, const std::vector<int64_t>& ids,
                                               int64_t* change_seq = nullptr);
  Result<Product> create_product(const Principal& p, const ProductInput& in);
  // The product before and after (always set).
  Result<Change<Product>> update_product(const Principal& p, int64_t id, const ProductInput& in);
  // A product on existing bills is deactivated, not deleted: `after` is then the deactivated
  // product, and nullopt when it was deleted.
  Result<Change<Product>> delete_product(const Principal& p, int64_t id);

  // --- customers ---
  Result<Page<Customer>> list_customers(const Principal& p, const std::optional<std::string>& q,
                                        const PageRequest& page);
  Result<Customer> customer(const Principal& p, int64_t id);
  // The shop's customers among `ids`, in one query.
  Result<std::vector<Customer>> customers_by_ids(const Principal& p,
                                                 const std::vector<int64_t>& ids);
  Result<Customer> create_customer(const Principal& p, const CustomerInput& in);
  Result<Customer> update_customer(const Principal& p, int64_t id, const CustomerInput& in);
  Status delete_customer(const Principal& p, int64_t id);

  // --- employees ---
  Result<Page<Employee>> list_employees(const Principal& p, const PageRequest& page);
  Result<Employee> employee(const Principal& p, int64_t id);
  Result<Employee> create_employee(const Principal& p, const EmployeeInput& in);
  // A new password, or deactivation, ends every session of the employee's login.
  Result<Employee> update_employee(const Principal& p, int64_t id, const EmployeeInput& in);
  // Deletes the employee and its login; its sessions end at once.
  Status delete_employee(const Principal& p, int64_t id);

  // --- bills ---
  // With an idempotency key, a retry of the same request returns the first bill (and
  // `*replayed` is set); the key with another request is kUnprocessable (reason
  // "idempotency_key_reused"). A cashier's bill records the cashier's own employee (another
  // employee_id is kPermissionDenied), and a unit_price below the product's price or a discount
  // above the shop's cashier_discount_limit_bp is kPermissionDenied for a cashier. Amounts
  // past the limits of pos/money.h are kInvalidArgument naming the field.
  // With `change`, a new bill's SalesChange goes there (not for a replay).
  Result<Bill> create_bill(const Principal& p, const BillInput& in,
                           const std::optional<std::string>& idempotency_key,
                           bool* replayed = nullptr, SalesChange* change = nullptr);
  // With `change_seq`, the shop's change number in the same snapshot goes there.
  Result<Page<Bill>> list_bills(const Principal& p, const BillFilter& f, const PageRequest& page,
                                int64_t* change_seq = nullptr);
  Result<Bill> bill(const Principal& p, int64_t id);
  // The bill, void. A bill that was void already is returned as it is, with `already_void` set
  // (the caller answers a conflict, after doing what any void's answer needs).
  // With `change`, the void's SalesChange goes there (not when it was void already).
  Result<Bill> void_bill(const Principal& p, int64_t id, bool& already_void,
                         SalesChange* change = nullptr);

  // --- dashboard ---
  // As at `at` (unix ms; default: now), which is its generated_at.
  Result<Dashboard> dashboard(const Principal& p, std::optional<int64_t> at = std::nullopt);

  // --- the cache's statistics history (cache_history.h, cache_history.cc) ---
  // Adds interval points to their hour's and day's rows, then drops the rows of the shops
  // they name that are past `limits`. One transaction.
  Status add_cache_history(const std::vector<CacheHistoryPoint>& points,
                           const CacheHistoryLimits& limits);
  // The shop's (0: the server's) newest `max_rows` rows of a span, oldest first.
  Result<std::vector<CacheHistoryPoint>> cache_history(int64_t shop_id, CacheRollup rollup,
                                                       int64_t max_rows);

  // --- the nodes' beats in the database (node_beats.cc): redis::Witness's store ---
  // Counts a beat of `node` (and forgets nodes silent for a day); marks it resigned.
  Status beat_node(const std::string& node);
  Status resign_node(const std::string& node);
  struct NodeBeat {
    std::string node;
    int64_t beats = 0;
    bool resigned = false;
  };
  Result<std::vector<NodeBeat>> node_beats();

  db::Database& database() { return db_; }

 private:
  db::Database& db_;
  PosOptions options_;
  // argon2id under the max_concurrent_hashes bound (auth.cc).
  Result<std::string> hash_new_password(std::string_view username, std::string_view password);
  Result<bool> password_matches(const std::string& hash, std::string_view password);

  std::string dummy_hash_;  // what a login for an unknown username verifies against
  int hash_limit_;
  std::atomic<int> hashes_running_{0};
};

// --- what a bill or a void does to reads made before it ---
// Each brings a read of the shop made at change c.seq - 1 to exactly what the same read gives
// at change c.seq, and returns true; or returns false, having changed the read in part, when
// the read and the change alone do not say what it becomes (a product that may now enter the
// top five, the bill that moves up into a page when one leaves it).
// The dashboard's generated_at is taken as known to the second only (as its JSON shows it).
bool apply_change(const SalesChange& c, Dashboard& d);
// A page of bills as list_bills() gives it for `f`; only first pages without from/to (see
// maintainable()) can be brought up to date.
bool apply_change(const SalesChange& c, const BillFilter& f, Page<Bill>& page);
bool maintainable(const BillFilter& f, const PageRequest& page);

// Current time, unix milliseconds UTC.
int64_t now_ms();
// "2026-11-23T10:15:00Z" (milliseconds are dropped).
std::string format_time(int64_t unix_ms);
// Parses RFC 3339 ("2026-11-23T10:15:00Z", offsets, fractional seconds) or a date
// ("2026-11-23", UTC midnight). nullopt when malformed.
std::optional<int64_t> parse_time(std::string_view text);
// Whether parse_time() reads `text` as a date alone (see BillFilter::from_is_date).
bool is_date(std::string_view text);
// Whether `name` is an IANA time zone this machine knows.
bool valid_timezone(std::string_view name);
// The zone's offset from UTC at unix ms `at_ms`, in ms (daylight saving included); 0 for a name
// this machine does not know.
int64_t utc_offset_ms(std::string_view timezone, int64_t at_ms);

}  // namespace tajir::pos
