// Registration, login, tokens.
//
// Passwords are hashed with argon2id (libsodium's crypto_pwhash_str, which stores its own salt
// and parameters). Tokens are 256 random bits, hex-encoded for the client; the database keeps
// only their SHA-256, so a copy of the database holds no usable token. A session ends when it
// expires, at logout, when its password changes, or when its employee is deactivated or deleted
// (the session rows go with the user).
//
// Usernames are unique and looked up without regard to ASCII case (a unique index on
// lower(username)); the name is kept as it was registered. Accounts that differed only in case
// before that index existed are flagged case_duplicate by the migration that made it (all but
// the oldest of each group), left out of the index, and still log in by their exact name.
//
// A login for an unknown (or inactive) username verifies the password against a dummy hash
// made at start with the same argon2id limits, so that its time tells nothing of which
// usernames exist.
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "pos/internal/rows.h"
#include "pos/pos.h"
#include "util/blocking.h"

namespace tajir::pos {
namespace {

std::string to_hex(const unsigned char* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

}  // namespace

namespace internal {
std::string sha256_hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return to_hex(digest, sizeof digest);
}
}  // namespace internal

namespace {

std::string token_hash(std::string_view token) { return internal::sha256_hex(token); }

Result<std::string> hash_password(std::string_view password, const PosOptions& o) {
  util::blocking_point();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), o.pwhash_opslimit,
                        o.pwhash_memlimit) != 0) {
    return Status(StatusCode::kResourceExhausted, "out of memory hashing a password");
  }
  return std::string(out);
}

bool verify_password(const std::string& hash, std::string_view password) {
  util::blocking_point();
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

// One of Pos's max_concurrent_hashes slots, held for its lifetime, or none (held() false).
class HashSlot {
 public:
  HashSlot(std::atomic<int>& running, int limit)
      : running_(running), held_(running.fetch_add(1, std::memory_order_acq_rel) < limit) {
    if (!held_) running_.fetch_sub(1, std::memory_order_acq_rel);
  }
  ~HashSlot() {
    if (held_) running_.fetch_sub(1, std::memory_order_acq_rel);
  }
  HashSlot(const HashSlot&) = delete;
  HashSlot& operator=(const HashSlot&) = delete;
  bool held() const { return held_; }

 private:
  std::atomic<int>& running_;
  const bool held_;
};

Status too_many_hashes() {
  return Status(StatusCode::kUnavailable, "too many password checks at once").with_reason("busy");
}

Role parse_role(const std::string& s) { return s == "owner" ? Role::kOwner : Role::kCashier; }

// Validates the parts every account shares.
Status check_credentials(std::string_view username, std::string_view password) {
  if (username.size() < 3 || username.size() > 64) {
    return InvalidArgument("username must be 3 to 64 characters", "username");
  }
  for (char c : username) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) {
      return InvalidArgument("username may contain letters, digits, '_', '.' and '-'", "username");
    }
  }
  if (password.size() < 8)
    return InvalidArgument("password must be at least 8 characters", "password");
  if (password.size() > 256) return InvalidArgument("password is too long", "password");
  return OkStatus();
}

}  // namespace

// Used by people.cc too: a cashier login belongs to an employee.
Result<std::string> Pos::hash_new_password(std::string_view username, std::string_view password) {
  if (Status st = check_credentials(username, password); !st.ok()) return st;
  HashSlot slot(hashes_running_, hash_limit_);
  if (!slot.held()) return too_many_hashes();
  return hash_password(password, options_);
}

Result<bool> Pos::password_matches(const std::string& hash, std::string_view password) {
  HashSlot slot(hashes_running_, hash_limit_);
  if (!slot.held()) return too_many_hashes();
  return verify_password(hash, password);
}

const char* role_name(Role r) {
  switch (r) {
    case Role::kOwner:
      return "owner";
    case Role::kCashier:
      return "cashier";
    case Role::kOperator:
      return "operator";
  }
  return "cashier";
}

Pos::Pos(db::Database& db, PosOptions options)
    : db_(db),
      options_(options),
      hash_limit_(options.max_concurrent_hashes > 0
                      ? options.max_concurrent_hashes
                      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency() / 2))) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  auto dummy = hash_password(to_hex(raw, sizeof raw), options_);
  if (!dummy.ok()) throw std::runtime_error(dummy.status().message());
  dummy_hash_ = std::move(*dummy);
}

namespace {
Result<std::string> start_session(db::Transaction& tx, int64_t user_id, int64_t shop_id,
                                  std::chrono::hours lifetime) {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  std::string token = to_hex(raw, sizeof raw);
  int64_t now = now_ms();
  auto r = tx.execute(
      "INSERT INTO sessions(token_hash, user_id, shop_id, expires_at, created_at) "
      "VALUES (?, ?, ?, ?, ?)",
      {token_hash(token), user_id, shop_id,
       now + std::chrono::duration_cast<std::chrono::milliseconds>(lifetime).count(), now});
  if (!r.ok()) return r.status();
  return token;
}
}  // namespace

Result<AuthResult> Pos::register_shop(std::string_view shop_name, std::string_view username,
                                      std::string_view password) {
  if (shop_name.empty() || shop_name.size() > 200) {
    return InvalidArgument("shop_name must be 1 to 200 characters", "shop_name");
  }
  auto hash = hash_new_password(username, password);  // slow: outside the transaction
  if (!hash.ok()) return hash.status();
  AuthResult out;
  Status st = db_.write([&](db::Transaction& tx) -> Status {
    int64_t now = now_ms();
    auto shop = tx.query("INSERT INTO shops(name, created_at) VALUES (?, ?) RETURNING id",
                         {std::string(shop_name), now});
    if (!shop.ok()) return shop.status();
    int64_t shop_id = (*shop)[0].integer(0);
    auto user = tx.query(
        "INSERT INTO users(shop_id, username, password_hash, role, created_at) "
        "VALUES (?, ?, ?, 'owner', ?) RETURNING id",
        {shop_id, std::string(username), *hash, now});
    if (!user.ok()) {
      if (user.status().code() == StatusCode::kAlreadyExists) {
        return Status(StatusCode::kAlreadyExists, "username is taken").with_field("username");
      }
      return user.status();
    }
    out.user = User{(*user)[0].integer(0), std::string(username), Role::kOwner, shop_id};
    auto token = start_session(tx, out.user.id, shop_id, options_.token_lifetime);
    if (!token.ok()) return token.status();
    out.token = std::move(*token);
    return OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

Result<AuthResult> Pos::login(std::string_view username, std::string_view password) {
  const Status bad(StatusCode::kUnauthenticated, "wrong username or password");
  if (username.empty() || password.empty() || password.size() > 256) return bad;
  std::optional<db::Row> row;
  Status st = db_.read([&](db::Transaction& tx) -> Status {
    // The exact name first: a case_duplicate account is found only by it.
    auto rows = tx.query(
        "SELECT id, shop_id, password_hash, role, username FROM users "
        "WHERE (username = ? OR (lower(username) = ? AND case_duplicate = 0)) AND active = 1 "
        "ORDER BY CASE WHEN username = ? THEN 0 ELSE 1 END LIMIT 1",
        {std::string(username), internal::ascii_lower(username), std::string(username)});
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) row = (*rows)[0];
    return OkStatus();
  });
  if (!st.ok()) return st;
  // An unknown name takes as long as a wrong password.
  auto matches = password_matches(row ? row->text(2) : dummy_hash_, password);
  if (!matches.ok()) return matches.status();
  if (!row || !*matches) return bad;
  AuthResult out{"",
                 User{row->integer(0), row->text(4), parse_role(row->text(3)), row->integer(1)}};
  st = db_.write([&](db::Transaction& tx) -> Status {
    auto token = start_session(tx, out.user.id, out.user.shop_id, options_.token_lifetime);
    if (!token.ok()) return token.status();
    out.token = std::move(*token);
    return OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

Status Pos::logout(std::string_view token) {
  return db_.write([&](db::Transaction& tx) -> Status {
    auto r = tx.execute("DELETE FROM sessions WHERE token_hash = ?", {token_hash(token)});
    return r.ok() ? OkStatus() : r.status();
  });
}

Result<Principal> Pos::authenticate(std::string_view token) {
  const Status bad(StatusCode::kUnauthenticated, "invalid or expired token");
  if (token.size() != 64) return bad;
  std::optional<Principal> p;
  Status st = db_.read([&](db::Transaction& tx) -> Status {
    auto rows = tx.query(
        "SELECT u.id, u.shop_id, u.role, u.username, s.expires_at FROM sessions s "
        "JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND s.expires_at > ? AND u.active = 1",
        {token_hash(token), now_ms()});
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) {
      const auto& r = (*rows)[0];
      p = Principal{r.integer(0), r.integer(1), parse_role(r.text(2)), r.text(3), r.integer(4)};
    }
    return OkStatus();
  });
  if (!st.ok()) return st;
  if (!p) return bad;
  return *p;
}

Result<bool> Pos::shop_exists(int64_t shop_id) {
  bool found = false;
  Status st = db_.read([&](db::Transaction& tx) -> Status {
    auto rows = tx.query("SELECT 1 FROM shops WHERE id = ?", {shop_id});
    if (!rows.ok()) return rows.status();
    found = !rows->empty();
    return OkStatus();
  });
  if (!st.ok()) return st;
  return found;
}

Result<std::vector<int64_t>> Pos::shop_ids() {
  std::vector<int64_t> ids;
  Status st = db_.read([&](db::Transaction& tx) -> Status {
    auto rows = tx.query("SELECT id FROM shops ORDER BY id");
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) ids.push_back(r.integer(0));
    return OkStatus();
  });
  if (!st.ok()) return st;
  return ids;
}

}  // namespace tajir::pos
