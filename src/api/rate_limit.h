// Rate limits on the doors a password guesser knocks at: failed logins per (username, client
// address) and per client address, and registrations per address. A limit that holds answers
// 429 with Retry-After, before any password is checked, so a right guess is refused as well as
// a wrong one (else the limit would tell which guess was right).
//
// RateLimiter is the counting part: at most `limit` events per key in a fixed window that the
// key's first event opens (an event over the limit is refused and not counted; when the window
// ends the key starts again). Across the end of one window and the start of the next a key can
// therefore have up to 2 * limit events in a window's time: a bound, not a smooth rate. The
// keys live in a map of at most `max_keys` entries: keys whose window ended are dropped as
// time passes, and a new key arriving at a full map evicts the one whose window is oldest (and
// counts it), so a flood of distinct keys costs a fixed amount of memory; it can free a key
// early only by making `max_keys` failed attempts of its own.
//
//   RateLimiter per_user(5, std::chrono::minutes(15));
//   if (int64_t wait = per_user.acquire("alice|10.0.0.7"); wait > 0) refuse(wait);
//   ... check the password ...; if it was right: per_user.release("alice|10.0.0.7");
//
// AuthLimits applies three of them to the auth routes and knows the client's address: the
// peer's, or, when the peer is one of the trusted proxies, the nearest address of
// X-Forwarded-For that is not a trusted proxy. An IPv6 client counts by its /64, which one host
// usually holds whole.
//
// Thread safety: both classes are thread-safe (one mutex per limiter, held for a map lookup).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/http.h"

namespace tajir::api {

class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr size_t kDefaultMaxKeys = 1 << 16;

  // `limit` 0: no limit (acquire() always allows and nothing is stored).
  RateLimiter(int64_t limit, std::chrono::seconds window, size_t max_keys = kDefaultMaxKeys,
              Clock clock = std::chrono::steady_clock::now);

  // Counts one event of `key` and returns 0; or, when `key` has had `limit` events in its
  // window, counts nothing and returns the seconds until the window ends (at least 1).
  int64_t acquire(std::string_view key);
  // Takes back one event acquire() counted for `key` in its current window, if any.
  void release(std::string_view key);

  int64_t limit() const { return limit_; }
  size_t keys() const;
  // Keys dropped to make room while their window was still open.
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Entry {
    TimePoint start;  // when the key's window opened
    int64_t count = 0;
    std::list<const std::string*>::iterator order;  // its place in order_
  };
  using Map = std::unordered_map<std::string, Entry, StringHash, std::equal_to<>>;

  // Drops the keys whose window has ended. REQUIRES: mu_ held.
  void expire_locked(TimePoint now);
  void erase_locked(Map::iterator it);

  const int64_t limit_;
  const std::chrono::seconds window_;
  const size_t max_keys_;
  const Clock clock_;
  mutable std::mutex mu_;
  Map entries_;                          // GUARDED_BY(mu_)
  std::list<const std::string*> order_;  // GUARDED_BY(mu_): keys of entries_, oldest window first
  std::atomic<uint64_t> evictions_{0};
};

inline constexpr std::chrono::seconds kLoginWindow = std::chrono::minutes(15);
inline constexpr std::chrono::seconds kRegistrationWindow = std::chrono::hours(1);

struct AuthLimitOptions {
  int64_t login_failures_per_user = 5;      // per (username, address) per kLoginWindow; 0: off
  int64_t login_failures_per_address = 50;  // per address per kLoginWindow; 0: off
  int64_t registrations_per_address = 10;   // per address per kRegistrationWindow; 0: off
  // Peers whose X-Forwarded-For names the client (exact addresses, any spelling inet_pton reads).
  std::vector<std::string> trusted_proxies;
  size_t max_keys = RateLimiter::kDefaultMaxKeys;  // per limiter
};

// The address in the canonical spelling of inet_ntop ("::FFFF:10.0.0.1" -> "10.0.0.1"), or
// nullopt when `text` is not an IPv4 or IPv6 address.
std::optional<std::string> canonical_address(std::string_view text);

class AuthLimits {
 public:
  explicit AuthLimits(AuthLimitOptions options,
                      const RateLimiter::Clock& clock = std::chrono::steady_clock::now);

  // Who is calling, as the limits count it (see above).
  std::string client(const http::Request& req) const;

  // Before a login's password is checked: counts it as a failure of `client` and `username`
  // (compared case-insensitively, as logins are) and returns nullopt, or returns the 429 to
  // answer when a limit holds. A login that did not fail on its credentials must then call
  // login_done().
  std::optional<http::Response> begin_login(const std::string& client, std::string_view username);
  // The login counted by begin_login() succeeded (or failed for another reason than its
  // credentials): it is not a failure.
  void login_done(const std::string& client, std::string_view username);

  // Counts a registration attempt of `client`, or returns the 429 to answer.
  std::optional<http::Response> begin_registration(const std::string& client);

  // The Prometheus text of the refusals and evictions, for /metrics.
  std::string metrics_text() const;

 private:
  static std::optional<http::Response> refuse(std::atomic<uint64_t>& counter, int64_t wait,
                                              std::string_view what);

  std::vector<std::string> trusted_;  // canonical
  RateLimiter per_user_, per_address_, registrations_;
  std::atomic<uint64_t> refused_user_{0}, refused_address_{0}, refused_registration_{0};
};

}  // namespace tajir::api
