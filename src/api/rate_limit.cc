#include "api/rate_limit.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "http/errors.h"

namespace tajir::api {
namespace {

// Parses an IPv4 or IPv6 address; an IPv4-mapped IPv6 address is its IPv4 address.
std::optional<std::pair<int, in6_addr>> parse_address(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  in6_addr a6{};
  in_addr a4{};
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    std::memcpy(&a6, &a4, sizeof a4);
    return std::pair{AF_INET, a6};
  }
  if (inet_pton(AF_INET6, s.c_str(), &a6) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&a6)) {
    std::memcpy(&a4, a6.s6_addr + 12, sizeof a4);
    std::memset(&a6, 0, sizeof a6);
    std::memcpy(&a6, &a4, sizeof a4);
    return std::pair{AF_INET, a6};
  }
  return std::pair{AF_INET6, a6};
}

std::string format_address(int family, const in6_addr& a) {
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, &a, out, sizeof out);
  return out;
}

// What a client counts as: its IPv4 address, or its IPv6 /64.
std::string counted_as(std::string_view canonical) {
  auto a = parse_address(canonical);
  if (!a) return std::string(canonical);
  if (a->first == AF_INET) return format_address(AF_INET, a->second);
  std::memset(a->second.s6_addr + 8, 0, 8);
  return format_address(AF_INET6, a->second) + "/64";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  return s;
}

// The key of (client, username): a client never holds a space, so it cannot be ambiguous.
std::string user_key(const std::string& client, std::string_view username) {
  std::string key = client + ' ';
  for (char ch : username) key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return key;
}

}  // namespace

RateLimiter::RateLimiter(int64_t limit, std::chrono::seconds window, size_t max_keys, Clock clock)
    : limit_(limit), window_(window), max_keys_(std::max<size_t>(1, max_keys)), clock_(clock) {}

void RateLimiter::erase_locked(Map::iterator it) {
  order_.erase(it->second.order);
  entries_.erase(it);
}

void RateLimiter::expire_locked(TimePoint now) {
  while (!order_.empty()) {
    auto it = entries_.find(*order_.front());
    if (now < it->second.start + window_) return;
    erase_locked(it);
  }
}

int64_t RateLimiter::acquire(std::string_view key) {
  if (limit_ <= 0) return 0;
  TimePoint now = clock_();
  std::lock_guard lock(mu_);
  expire_locked(now);
  if (auto it = entries_.find(key); it != entries_.end()) {
    Entry& e = it->second;
    if (e.count < limit_) {
      ++e.count;
      return 0;
    }
    auto left = std::chrono::ceil<std::chrono::seconds>(e.start + window_ - now);
    return std::max<int64_t>(1, left.count());
  }
  if (entries_.size() >= max_keys_) {
    erase_locked(entries_.find(*order_.front()));
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  auto [it, inserted] = entries_.emplace(std::string(key), Entry{now, 1, {}});
  it->second.order = order_.insert(order_.end(), &it->first);
  return 0;
}

void RateLimiter::release(std::string_view key) {
  if (limit_ <= 0) return;
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (--it->second.count <= 0) erase_locked(it);
}

size_t RateLimiter::keys() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::optional<std::string> canonical_address(std::string_view text) {
  auto a = parse_address(text);
  if (!a) return std::nullopt;
  return format_address(a->first, a->second);
}

AuthLimits::AuthLimits(AuthLimitOptions o, const RateLimiter::Clock& clock)
    : per_user_(o.login_failures_per_user, kLoginWindow, o.max_keys, clock),
      per_address_(o.login_failures_per_address, kLoginWindow, o.max_keys, clock),
      registrations_(o.registrations_per_address, kRegistrationWindow, o.max_keys, clock) {
  for (const std::string& p : o.trusted_proxies) {
    if (auto a = canonical_address(p)) trusted_.push_back(std::move(*a));
  }
}

std::string AuthLimits::client(const http::Request& req) const {
  auto trusted = [this](const std::string& a) {
    return std::find(trusted_.begin(), trusted_.end(), a) != trusted_.end();
  };
  std::string hop = canonical_address(req.remote_address).value_or(req.remote_address);
  if (!trusted(hop)) return counted_as(hop);
  // Each proxy appends the address it saw: read from the right, past our own proxies.
  std::vector<std::string_view> chain;
  for (const auto& [name, value] : req.headers) {
    if (!http::iequals(name, "X-Forwarded-For")) continue;
    for (size_t start = 0; start <= value.size();) {
      size_t comma = std::min(value.find(',', start), value.size());
      chain.push_back(trim(std::string_view(value).substr(start, comma - start)));
      start = comma + 1;
    }
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    auto a = canonical_address(*it);
    if (!a) break;  // a proxy that wrote nonsense: trust what it was, no further
    hop = std::move(*a);
    if (!trusted(hop)) break;
  }
  return counted_as(hop);
}

std::optional<http::Response> AuthLimits::refuse(std::atomic<uint64_t>& counter, int64_t wait,
                                                 std::string_view what) {
  counter.fetch_add(1, std::memory_order_relaxed);
  http::Response r = http::from_status(Status(
      StatusCode::kResourceExhausted,
      "too many " + std::string(what) + "; try again in " + std::to_string(wait) + " seconds"));
  r.set_header("Retry-After", std::to_string(wait));
  return r;
}

std::optional<http::Response> AuthLimits::begin_login(const std::string& client,
                                                      std::string_view username) {
  if (int64_t wait = per_address_.acquire(client); wait > 0)
    return refuse(refused_address_, wait, "failed logins from this address");
  if (int64_t wait = per_user_.acquire(user_key(client, username)); wait > 0) {
    per_address_.release(client);
    return refuse(refused_user_, wait, "failed logins for this username");
  }
  return std::nullopt;
}

void AuthLimits::login_done(const std::string& client, std::string_view username) {
  per_address_.release(client);
  per_user_.release(user_key(client, username));
}

std::optional<http::Response> AuthLimits::begin_registration(const std::string& client) {
  if (int64_t wait = registrations_.acquire(client); wait > 0)
    return refuse(refused_registration_, wait, "registrations from this address");
  return std::nullopt;
}

std::string AuthLimits::metrics_text() const {
  std::string out =
      "# HELP tajir_rate_limited_total Requests refused with 429 by a rate limit.\n"
      "# TYPE tajir_rate_limited_total counter\n";
  auto line = [&](std::string_view metric, std::string_view what, uint64_t n) {
    out.append(metric).append("{what=\"").append(what).append("\"} ");
    out.append(std::to_string(n)).append("\n");
  };
  line("tajir_rate_limited_total", "login_user", refused_user_.load());
  line("tajir_rate_limited_total", "login_address", refused_address_.load());
  line("tajir_rate_limited_total", "registration", refused_registration_.load());
  out +=
      "# HELP tajir_rate_limit_evictions_total Keys a full rate-limit map dropped while their "
      "window was open.\n"
      "# TYPE tajir_rate_limit_evictions_total counter\n";
  line("tajir_rate_limit_evictions_total", "login_user", per_user_.evictions());
  line("tajir_rate_limit_evictions_total", "login_address", per_address_.evictions());
  line("tajir_rate_limit_evictions_total", "registration", registrations_.evictions());
  return out;
}

}  // namespace tajir::api
