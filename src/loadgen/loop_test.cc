#include "loadgen/loop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <set>

namespace tajir::loadgen {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Simulated time: it moves only when every thread that uses it sleeps, and then to the earliest
// wake-up, so the threads see exact times, the same in every run, and a test takes no real time.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int threads) : awake_(threads) {}

  Nanos now() override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void sleep_until(Nanos t) override {
    std::unique_lock lock(mu_);
    if (t <= now_) return;
    auto it = wakeups_.insert(t);
    --awake_;
    advance_if_all_sleep();
    moved_.wait(lock, [&] { return now_ >= t; });
    wakeups_.erase(it);
    ++awake_;
  }
  void leave() override {
    std::lock_guard lock(mu_);
    --awake_;
    advance_if_all_sleep();
  }

 private:
  void advance_if_all_sleep() {  // REQUIRES: mu_ held
    if (awake_ > 0 || wakeups_.empty()) return;
    now_ = std::max(now_, *wakeups_.begin());
    moved_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable moved_;
  Nanos now_{0};
  int awake_;
  std::multiset<Nanos> wakeups_;
};

// A server that answers in `service`, except that it stalls over [stall_from, stall_to): a
// request it has then is answered at stall_to + service.
struct Server {
  Nanos service{milliseconds(1)};
  Nanos stall_from{seconds(1000)}, stall_to{seconds(1000)};

  Nanos answer_at(Nanos sent) const {
    Nanos done = sent + service;
    return sent < stall_to && done > stall_from ? stall_to + service : done;
  }
};

struct Recorded {
  std::mutex mu;
  std::vector<Timing> timings;
  int sent = 0;
};

class Till final : public Connection {
 public:
  Till(Clock& clock, const Server& server, Recorded& out)
      : clock_(clock), server_(server), out_(out) {}
  void send() override {
    {
      std::lock_guard lock(out_.mu);
      ++out_.sent;
    }
    clock_.sleep_until(server_.answer_at(clock_.now()));
  }
  void record(const Timing& t) override {
    std::lock_guard lock(out_.mu);
    out_.timings.push_back(t);
  }

 private:
  Clock& clock_;
  const Server& server_;
  Recorded& out_;
};

struct Day {
  LoopReport report;
  std::vector<Timing> timings;  // by due time
  int sent = 0;
};

Day run(int tills, const Server& server, Bounds bounds, std::optional<Schedule> schedule) {
  FakeClock clock(tills);
  Recorded out;
  std::vector<Till> all;
  all.reserve(static_cast<size_t>(tills));
  std::vector<Connection*> connections;
  for (int i = 0; i < tills; ++i) connections.push_back(&all.emplace_back(clock, server, out));
  Loop loop(clock, bounds, std::move(schedule));
  loop.start(connections);
  EXPECT_TRUE(loop.wait(std::chrono::steady_clock::now() + std::chrono::minutes(1)));
  std::sort(out.timings.begin(), out.timings.end(),
            [](const Timing& a, const Timing& b) { return a.due < b.due; });
  return {loop.report(), std::move(out.timings), out.sent};
}

Nanos ms(int64_t n) { return milliseconds(n); }
Schedule every_10_ms() { return Schedule(100, Arrivals::kConstant, 1); }

TEST(OpenLoop, LatencyRunsFromTheDueTimeSoAStallShowsInEveryRequestDueDuringIt) {
  Server server{.service = ms(1), .stall_from = ms(200), .stall_to = ms(500)};
  Day r = run(1, server, {.duration = seconds(1)}, every_10_ms());
  ASSERT_EQ(r.timings.size(), 100u);
  int slow = 0, slow_service = 0;
  for (const Timing& t : r.timings) {
    if (t.due >= ms(200) && t.due < ms(500)) {
      EXPECT_GE(t.done - t.due, ms(500) - t.due) << "due at " << t.due.count();
    }
    slow += t.done - t.due > ms(10);
    slow_service += t.done - t.started > ms(10);
  }
  // Due at 200 ms: sent then, answered at 501. Due at 200 + 10k ms (k >= 1): it waits for the
  // till, sent at 500 + k, answered at 501 + k; the till catches up at k = 34.
  EXPECT_EQ(r.timings[20].due, ms(200));
  EXPECT_EQ(r.timings[20].done, ms(501));
  EXPECT_EQ(r.timings[21].started, ms(501));
  EXPECT_EQ(r.timings[21].done - r.timings[21].due, ms(292));
  EXPECT_EQ(r.timings[54].started, ms(540)) << "on time again";
  EXPECT_EQ(slow, 33) << "the one sent into the stall and 32 that waited for it";
  EXPECT_EQ(slow_service, 1) << "from the send, only the one in flight looks slow";
  EXPECT_EQ(r.report.late, 32u) << "sent more than 10 ms late: k = 1..32";
  EXPECT_EQ(r.report.max_start_delay, ms(291));
  EXPECT_EQ(r.report.unsent, 0u);
  EXPECT_EQ(r.report.due, 100u);
}

TEST(OpenLoop, WhenEveryTillIsBusyTheDueRequestsWaitAndTheWaitCounts) {
  Server server{.service = ms(1), .stall_from = ms(200), .stall_to = ms(500)};
  Day r = run(2, server, {.duration = seconds(1)}, every_10_ms());
  ASSERT_EQ(r.timings.size(), 100u);
  // Both tills are stuck in the stall from the requests due at 200 and 210 ms; the 28 due after
  // them wait for a till and are sent from 501 ms on.
  for (const Timing& t : r.timings) {
    if (t.due >= ms(200) && t.due < ms(500)) {
      EXPECT_GE(t.done, ms(501)) << "due at " << t.due.count();
      if (t.due >= ms(220)) {
        EXPECT_GE(t.started, ms(501)) << "due at " << t.due.count();
      }
    }
  }
  EXPECT_EQ(r.timings[22].done - r.timings[22].due, ms(282)) << "due at 220, sent at 501";
  EXPECT_EQ(r.report.max_start_delay, ms(281));
  EXPECT_GE(r.report.late, 25u);
}

TEST(ClosedLoop, MeasuresFromTheSendSoAStallShowsOnlyInTheRequestInFlight) {
  Server server{.service = ms(1), .stall_from = ms(200), .stall_to = ms(500)};
  Day r = run(1, server, {.duration = seconds(1)}, std::nullopt);
  int slow = 0;
  for (const Timing& t : r.timings) {
    EXPECT_EQ(t.due, t.started);
    slow += t.done - t.started > ms(10);
  }
  EXPECT_EQ(slow, 1);
  EXPECT_EQ(r.timings.size(), 200u + 500u) << "no request is made during the stall";
  EXPECT_FALSE(r.report.open);
  EXPECT_EQ(r.report.late, 0u);
}

TEST(OpenLoop, AServerSlowerThanTheScheduleLeavesRequestsUnsentAndTheAchievedRateLow) {
  Day r = run(1, Server{.service = ms(4)}, {.duration = seconds(1)},
              Schedule(1000, Arrivals::kConstant, 1));
  EXPECT_EQ(r.report.measured, 250u) << "one till, 4 ms a request";
  EXPECT_EQ(r.report.unsent, 750u);
  EXPECT_EQ(r.report.due, 1000u);
  EXPECT_EQ(r.report.late, 246u) << "request k is sent 3k ms late: more than 10 from k = 4 on";
  EXPECT_DOUBLE_EQ(r.report.target_rate, 1000);
  EXPECT_DOUBLE_EQ(r.report.seconds, 1.0);
  EXPECT_DOUBLE_EQ(r.report.achieved_rate, 250);
}

TEST(Loop, BoundedByACountOfMeasuredRequests) {
  Day closed = run(3, Server{}, {.duration = seconds(10), .requests = 50}, std::nullopt);
  EXPECT_EQ(closed.report.measured, 50u);
  EXPECT_EQ(closed.timings.size(), 50u);
  EXPECT_EQ(closed.sent, 50);
  Day open = run(3, Server{}, {.duration = seconds(10), .requests = 20}, every_10_ms());
  EXPECT_EQ(open.report.measured, 20u);
  EXPECT_EQ(open.report.unsent, 0u);
  EXPECT_EQ(open.report.due, 20u);
  EXPECT_EQ(open.timings.back().due, ms(190));
  EXPECT_DOUBLE_EQ(open.report.seconds, 0.191);
}

TEST(OpenLoop, RequestsDueInTheWarmUpAreSentButNotMeasured) {
  Day r = run(1, Server{}, {.warmup = ms(500), .duration = ms(500)}, every_10_ms());
  EXPECT_EQ(r.sent, 100);
  ASSERT_EQ(r.timings.size(), 50u);
  EXPECT_EQ(r.timings.front().due, ms(500));
  EXPECT_EQ(r.report.measured, 50u);
}

TEST(Schedule, ConstantIsEvenlySpacedAndPoissonIsReproducibleWithMeanGapOneOverTheRate) {
  Schedule constant(200, Arrivals::kConstant, 7);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(constant.next(), milliseconds(5) * i);
  Schedule a(1000, Arrivals::kPoisson, 42), b(1000, Arrivals::kPoisson, 42);
  Schedule c(1000, Arrivals::kPoisson, 43);
  Nanos last{0}, first_of_c = c.next();
  bool differs = false;
  int under_half_mean = 0;
  for (int i = 0; i < 100000; ++i) {
    Nanos t = a.next();
    ASSERT_EQ(t, b.next()) << "the same seed gives the same times";
    ASSERT_GE(t, last);
    under_half_mean += t - last < std::chrono::microseconds(500);
    last = t;
    if (i == 0) differs = t != first_of_c;
  }
  EXPECT_TRUE(differs);
  EXPECT_NEAR(std::chrono::duration<double>(last).count(), 100.0, 1.5) << "100,000 at 1,000/s";
  // Exponential gaps: P(gap < mean / 2) = 1 - e^-0.5 = 39.3%.
  EXPECT_NEAR(under_half_mean / 100000.0, 0.393, 0.01);
}

// With a rhythm the schedule follows the day's shape: at the peak hours the whole rate, at night
// a fiftieth of it.
TEST(Schedule, ARhythmThinsTheArrivalsToItsShareOfEachHour) {
  const Rhythm day(1000);                                 // an hour a second
  const int64_t midnight = 86'400'000LL * 20'000 / 3600;  // a compressed midnight
  Schedule s(1000, Arrivals::kPoisson, 5, &day, midnight);
  std::array<int, 24> per_hour{};
  for (Nanos t = s.next(); t < std::chrono::seconds(24); t = s.next())
    ++per_hour[static_cast<size_t>(std::chrono::duration_cast<milliseconds>(t).count() / 1000)];
  EXPECT_NEAR(per_hour[9], 1000, 100);
  EXPECT_NEAR(per_hour[17], 1000, 100);
  EXPECT_NEAR(per_hour[14], 400, 60);
  EXPECT_LT(per_hour[3], 50);
}

}  // namespace
}  // namespace tajir::loadgen
