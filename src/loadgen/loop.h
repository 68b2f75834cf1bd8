// The loops that drive tajir-loadgen's tills: closed or open.
//
//   SteadyClock clock;
//   Loop loop(clock, {.warmup = 5s, .duration = 30s, .requests = 0},
//             Schedule(500, Arrivals::kPoisson, 42));  // open loop; std::nullopt: closed loop
//   loop.start(tills);                                // one thread per till (a Connection)
//   clock.sleep_until(loop.measure_start());          // e.g. to read the server's counters
//   if (!loop.wait(std::chrono::steady_clock::now() + 1min)) ...;  // a till is stuck
//   LoopReport r = loop.report();
//
// Closed loop: each till sends its next request when its last one is answered, and a request's
// latency runs from its send to its answer. That hides a slow server: while a till waits it sends
// nothing, so a stall delays only the requests in flight, and those that would have come during
// it are never made (coordinated omission).
//
// Open loop: the Schedule says when each request falls due, whatever the server does. A free
// till takes the next request due, sleeps until it is due and sends it; its latency runs from the
// time it fell due to its answer. When every till is busy nobody takes the requests falling due:
// they wait here, and the wait is part of their latency, as the queue at the counter is part of a
// customer's. A request sent more than `late_after` after it fell due is late; one that fell due
// in the window but was not sent when the window closed is unsent (the server fell that far
// behind).
//
// Bounds: no request starts after warmup + duration, nor once `requests` measured requests have
// been taken (0: no limit); each till finishes the request it has in flight. Requests that start
// (closed) or fall due (open) in the warm-up are sent but not measured.
//
// Thread safety: start(), measure_start(), wait() and report() from one thread; each Connection
// is called by its own thread only. REQUIRES before the Loop is destroyed: wait() returned true
// (the destructor joins the tills' threads).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

#include "loadgen/workload.h"

namespace tajir::loadgen {

using Nanos = std::chrono::nanoseconds;

// Time as the loops see it: real (SteadyClock) or, in tests, simulated.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos now() = 0;
  virtual void sleep_until(Nanos t) = 0;
  // Called by a thread that will use the clock no more (a simulated clock moves when every
  // thread that uses it sleeps).
  virtual void leave() {}
};

class SteadyClock final : public Clock {
 public:
  Nanos now() override { return std::chrono::steady_clock::now().time_since_epoch(); }
  void sleep_until(Nanos t) override {
    std::this_thread::sleep_until(std::chrono::steady_clock::time_point(t));
  }
};

// When one request fell due, was sent and was answered. Closed loop: due == started.
struct Timing {
  Nanos due{0}, started{0}, done{0};
};

// A till: one connection that sends one request at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  // Sends one request and waits for its answer (or failure).
  virtual void send() = 0;
  // The request send() has just made is measured: its times.
  virtual void record(const Timing& t) = 0;
};

enum class Arrivals { kConstant, kPoisson };
std::string_view arrivals_name(Arrivals a);  // "constant", "poisson"

// When each request of an open loop falls due.
class Schedule {
 public:
  // REQUIRES: rate > 0 (requests per second). With a rhythm (workload.h), `rate` is the peak's
  // and the start is unix ms `start_ms`: each time drawn is kept with the probability of the
  // rhythm's share then (thinning: Poisson arrivals stay Poisson, at the rhythm's rate).
  Schedule(double rate, Arrivals arrivals, uint64_t seed, const Rhythm* rhythm = nullptr,
           int64_t start_ms = 0);
  // The next request's due time, from the start: request i at i / rate (constant), or after
  // exponential gaps of mean 1 / rate drawn from a generator seeded with `seed` (Poisson: the
  // arrivals of many independent customers; the same seed gives the same times).
  Nanos next();
  double rate() const { return rate_; }
  Arrivals arrivals() const { return arrivals_; }

 private:
  double rate_;
  Arrivals arrivals_;
  std::mt19937_64 rng_;
  uint64_t index_ = 0;
  double seconds_ = 0;  // Poisson: the sum of the gaps so far
  const Rhythm* rhythm_;
  int64_t start_ms_;
};

struct Bounds {
  Nanos warmup{0};
  Nanos duration{std::chrono::seconds(30)};
  uint64_t requests = 0;  // measured requests at most; 0: no limit
  Nanos late_after{std::chrono::milliseconds(10)};
};

struct LoopReport {
  bool open = false;
  double seconds = 0;     // from the end of the warm-up to the last measured answer
  uint64_t measured = 0;  // requests recorded
  // Open loop only.
  double target_rate = 0;    // from the schedule, requests per second
  double achieved_rate = 0;  // measured / seconds
  uint64_t due = 0;          // measured requests that fell due: measured + unsent
  uint64_t late = 0;         // sent more than late_after after they fell due
  uint64_t unsent = 0;       // fell due in the window, not sent when it closed
  Nanos max_start_delay{0};  // the longest wait from falling due to being sent
};

class Loop {
 public:
  // No schedule: a closed loop.
  Loop(Clock& clock, Bounds bounds, std::optional<Schedule> schedule);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Starts one thread per till. REQUIRES: called once; the tills outlive wait().
  void start(const std::vector<Connection*>& tills);
  // When measuring begins (start + warmup), on the clock's scale. REQUIRES: start().
  Nanos measure_start() const { return measure_start_; }
  // Waits until every till has finished, at most until `deadline` (real time): false if one is
  // still in a request then.
  bool wait(std::chrono::steady_clock::time_point deadline);
  // REQUIRES: wait() returned true.
  LoopReport report() const;

 private:
  struct Slot {
    Nanos due;
    bool measured;
  };
  // The till's next request, or nullopt when the loop is over for it.
  std::optional<Slot> take(Nanos now);
  Nanos peek_due();  // REQUIRES: mu_ held, open loop
  void run_closed(Connection& c);
  void run_open(Connection& c);
  void measured(const Slot& slot, Nanos started, Nanos done);
  void count_unsent();  // REQUIRES: mu_ held, every till finished

  Clock& clock_;
  const Bounds bounds_;
  const bool open_;
  std::vector<std::thread> threads_;
  Nanos start_{0}, measure_start_{0}, end_{0};

  mutable std::mutex mu_;
  std::condition_variable finished_;
  std::optional<Schedule> schedule_;  // GUARDED_BY(mu_)
  std::optional<Nanos> next_due_;     // GUARDED_BY(mu_)
  size_t running_ = 0;                // GUARDED_BY(mu_)
  uint64_t taken_ = 0;                // measured requests taken; GUARDED_BY(mu_)
  LoopReport report_;                 // GUARDED_BY(mu_)
  Nanos last_done_{0};                // GUARDED_BY(mu_)
};

}  // namespace tajir::loadgen
