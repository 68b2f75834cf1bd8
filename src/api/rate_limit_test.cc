#include "api/rate_limit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace tajir::api {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

// A clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
  RateLimiter::Clock fn() {
    return [this] { return now; };
  }
};

TEST(RateLimiter, AllowsTheLimitThenRefusesWithTheSecondsLeftUntilTheWindowEnds) {
  FakeClock clock;
  RateLimiter r(3, seconds(60), 100, clock.fn());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.acquire("k"), 0) << i;
  EXPECT_EQ(r.acquire("k"), 60);
  clock.now += std::chrono::milliseconds(20'500);
  EXPECT_EQ(r.acquire("k"), 40);  // rounded up
  clock.now += seconds(39);
  EXPECT_EQ(r.acquire("k"), 1);
  clock.now += std::chrono::milliseconds(500);
  EXPECT_EQ(r.acquire("k"), 0);  // a new window
  EXPECT_EQ(r.acquire("k"), 0);
  EXPECT_EQ(r.acquire("k"), 0);
  EXPECT_EQ(r.acquire("k"), 60);
}

TEST(RateLimiter, RefusedEventsAreNotCounted) {
  FakeClock clock;
  RateLimiter r(1, seconds(10), 100, clock.fn());
  EXPECT_EQ(r.acquire("k"), 0);
  for (int i = 0; i < 100; ++i) EXPECT_GT(r.acquire("k"), 0);
  clock.now += seconds(10);
  EXPECT_EQ(r.acquire("k"), 0);  // the refusals did not extend the window
}

TEST(RateLimiter, ReleaseTakesBackOneEvent) {
  FakeClock clock;
  RateLimiter r(2, seconds(10), 100, clock.fn());
  EXPECT_EQ(r.acquire("k"), 0);
  EXPECT_EQ(r.acquire("k"), 0);
  r.release("k");
  EXPECT_EQ(r.acquire("k"), 0);
  EXPECT_GT(r.acquire("k"), 0);
  r.release("k");
  r.release("k");
  EXPECT_EQ(r.keys(), 0u);  // nothing left to remember
  r.release("never-seen");
}

TEST(RateLimiter, KeysAreCountedApart) {
  FakeClock clock;
  RateLimiter r(1, seconds(10), 100, clock.fn());
  EXPECT_EQ(r.acquire("a"), 0);
  EXPECT_GT(r.acquire("a"), 0);
  EXPECT_EQ(r.acquire("b"), 0);
}

TEST(RateLimiter, ALimitOfZeroIsOff) {
  RateLimiter r(0, seconds(10));
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(r.acquire("k"), 0);
  EXPECT_EQ(r.keys(), 0u);
}

TEST(RateLimiter, KeysWhoseWindowEndedAreDropped) {
  FakeClock clock;
  RateLimiter r(5, seconds(10), 1000, clock.fn());
  for (int i = 0; i < 100; ++i) r.acquire("k" + std::to_string(i));
  EXPECT_EQ(r.keys(), 100u);
  clock.now += seconds(10);
  r.acquire("fresh");
  EXPECT_EQ(r.keys(), 1u);
  EXPECT_EQ(r.evictions(), 0u);
}

TEST(RateLimiter, AFloodOfKeysStaysWithinMaxKeysAndEvictsTheOldestWindowFirst) {
  FakeClock clock;
  RateLimiter r(1, seconds(60), 4, clock.fn());
  EXPECT_EQ(r.acquire("old"), 0);
  clock.now += seconds(1);
  EXPECT_EQ(r.acquire("newer"), 0);
  for (int i = 0; i < 1000; ++i) {
    if (i < 2) clock.now += seconds(1);
    r.acquire("flood" + std::to_string(i));
    EXPECT_LE(r.keys(), 4u);
  }
  EXPECT_EQ(r.evictions(), 998u);
  EXPECT_EQ(r.acquire("old"), 0);  // evicted: forgotten
  // The last keys of the flood are the ones kept.
  EXPECT_GT(r.acquire("flood999"), 0);
}

TEST(RateLimiter, ConcurrentCallersGetExactlyTheLimit) {
  RateLimiter r(1000, seconds(3600));
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (r.acquire("k") == 0) allowed.fetch_add(1);
        r.acquire("other" + std::to_string(i));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

http::Request from(std::string peer, std::vector<std::string> forwarded = {}) {
  http::Request req;
  req.remote_address = std::move(peer);
  for (auto& f : forwarded) req.headers.emplace_back("X-Forwarded-For", std::move(f));
  return req;
}

TEST(AuthLimits, TheClientIsThePeerUnlessThePeerIsATrustedProxy) {
  AuthLimits limits({.trusted_proxies = {"10.0.0.1", "::1"}});
  EXPECT_EQ(limits.client(from("192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(limits.client(from("192.0.2.7", {"203.0.113.5"})), "192.0.2.7");  // not trusted
  EXPECT_EQ(limits.client(from("10.0.0.1", {"203.0.113.5"})), "203.0.113.5");
  EXPECT_EQ(limits.client(from("::1", {"203.0.113.5"})), "203.0.113.5");
  EXPECT_EQ(limits.client(from("::ffff:10.0.0.1", {"203.0.113.5"})), "203.0.113.5");
  // What the client wrote itself is left of what our proxies appended.
  EXPECT_EQ(limits.client(from("10.0.0.1", {"1.1.1.1, 203.0.113.5"})), "203.0.113.5");
  EXPECT_EQ(limits.client(from("10.0.0.1", {"1.1.1.1, 203.0.113.5, 10.0.0.1"})), "203.0.113.5");
  EXPECT_EQ(limits.client(from("10.0.0.1", {"1.1.1.1", "203.0.113.5"})), "203.0.113.5");
  // Nonsense stops the walk at the last address read.
  EXPECT_EQ(limits.client(from("10.0.0.1", {"203.0.113.5, garbage"})), "10.0.0.1");
  EXPECT_EQ(limits.client(from("10.0.0.1")), "10.0.0.1");
}

TEST(AuthLimits, AnIpv6ClientCountsByItsSlash64) {
  AuthLimits limits({});
  EXPECT_EQ(limits.client(from("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
  EXPECT_EQ(limits.client(from("2001:db8:1:2:bbbb::9")), "2001:db8:1:2::/64");
  EXPECT_EQ(limits.client(from("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(canonical_address("::FFFF:10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(canonical_address("10.0.0"), std::nullopt);
  EXPECT_EQ(canonical_address(""), std::nullopt);
}

TEST(AuthLimits, FailedLoginsOfAUsernameAreLimitedPerAddressWhateverTheCase) {
  FakeClock clock;
  AuthLimits limits({.login_failures_per_user = 3, .login_failures_per_address = 100}, clock.fn());
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limits.begin_login("192.0.2.7", i ? "Alice" : "alice"));
  auto refused = limits.begin_login("192.0.2.7", "ALICE");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(refused->header("Retry-After"), "900");
  EXPECT_THAT(std::string(refused->body_view()), HasSubstr("rate_limited"));
  EXPECT_FALSE(limits.begin_login("192.0.2.8", "alice"));  // another address
  EXPECT_FALSE(limits.begin_login("192.0.2.7", "bob"));    // another username
  clock.now += kLoginWindow;
  EXPECT_FALSE(limits.begin_login("192.0.2.7", "alice"));
  EXPECT_THAT(limits.metrics_text(),
              HasSubstr("tajir_rate_limited_total{what=\"login_user\"} 1\n"));
}

TEST(AuthLimits, ALoginThatSucceededIsNotAFailure) {
  AuthLimits limits({.login_failures_per_user = 2, .login_failures_per_address = 2});
  for (int i = 0; i < 10; ++i) {
    ASSERT_FALSE(limits.begin_login("192.0.2.7", "alice")) << i;
    limits.login_done("192.0.2.7", "alice");
  }
}

TEST(AuthLimits, FailedLoginsFromAnAddressAreLimitedOverEveryUsername) {
  AuthLimits limits({.login_failures_per_user = 100, .login_failures_per_address = 3});
  for (int i = 0; i < 3; ++i)
    EXPECT_FALSE(limits.begin_login("192.0.2.7", "u" + std::to_string(i)));
  auto refused = limits.begin_login("192.0.2.7", "someone-else");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_FALSE(limits.begin_login("192.0.2.8", "u0"));
  EXPECT_THAT(limits.metrics_text(),
              HasSubstr("tajir_rate_limited_total{what=\"login_address\"} 1\n"));
}

TEST(AuthLimits, RegistrationsAreLimitedPerAddress) {
  AuthLimits limits({.registrations_per_address = 2});
  EXPECT_FALSE(limits.begin_registration("192.0.2.7"));
  EXPECT_FALSE(limits.begin_registration("192.0.2.7"));
  auto refused = limits.begin_registration("192.0.2.7");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->header("Retry-After"), "3600");
  EXPECT_FALSE(limits.begin_registration("192.0.2.8"));
  EXPECT_THAT(limits.metrics_text(),
              HasSubstr("tajir_rate_limited_total{what=\"registration\"} 1\n"));
}

}  // namespace
}  // namespace tajir::api
