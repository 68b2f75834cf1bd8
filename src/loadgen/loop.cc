#include "loadgen/loop.h"

#include <algorithm>
#include <cmath>

namespace tajir::loadgen {

std::string_view arrivals_name(Arrivals a) {
  return a == Arrivals::kConstant ? "constant" : "poisson";
}

Schedule::Schedule(double rate, Arrivals arrivals, uint64_t seed, const Rhythm* rhythm,
                   int64_t start_ms)
    : rate_(rate), arrivals_(arrivals), rng_(seed), rhythm_(rhythm), start_ms_(start_ms) {}

Nanos Schedule::next() {
  while (true) {
    double seconds = 0;
    if (arrivals_ == Arrivals::kConstant) {
      seconds = static_cast<double>(index_++) / rate_;  // no sum: no rounding drift
    } else {
      seconds_ += std::exponential_distribution<double>(rate_)(rng_);
      seconds = seconds_;
    }
    if (rhythm_ == nullptr || std::uniform_real_distribution<double>(0, 1)(rng_) <
                                  rhythm_->share(start_ms_ + std::llround(seconds * 1000)))
      return Nanos(std::llround(seconds * 1e9));
  }
}

Loop::Loop(Clock& clock, Bounds bounds, std::optional<Schedule> schedule)
    : clock_(clock), bounds_(bounds), open_(schedule.has_value()), schedule_(std::move(schedule)) {
  report_.open = open_;
  if (schedule_) report_.target_rate = schedule_->rate();
}

Loop::~Loop() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Loop::start(const std::vector<Connection*>& tills) {
  start_ = clock_.now();
  measure_start_ = start_ + bounds_.warmup;
  end_ = measure_start_ + bounds_.duration;
  last_done_ = measure_start_;
  running_ = tills.size();
  for (Connection* c : tills) {
    threads_.emplace_back([this, c] {
      if (open_)
        run_open(*c);
      else
        run_closed(*c);
      clock_.leave();
      std::lock_guard lock(mu_);
      if (--running_ == 0) finished_.notify_all();
    });
  }
}

Nanos Loop::peek_due() {
  if (!next_due_) next_due_ = start_ + schedule_->next();
  return *next_due_;
}

std::optional<Loop::Slot> Loop::take(Nanos now) {
  std::lock_guard lock(mu_);
  if (now >= end_) return std::nullopt;
  // Closed loop: the request is due now. Open loop: the schedule's next, maybe in the past.
  Nanos due = open_ ? peek_due() : now;
  if (due >= end_) return std::nullopt;
  bool measured = due >= measure_start_;
  if (measured) {
    if (bounds_.requests != 0 && taken_ >= bounds_.requests) return std::nullopt;
    ++taken_;
  }
  next_due_.reset();
  return Slot{due, measured};
}

void Loop::run_closed(Connection& c) {
  while (auto slot = take(clock_.now())) {
    c.send();
    Nanos done = clock_.now();
    if (slot->measured) {
      c.record({slot->due, slot->due, done});
      measured(*slot, slot->due, done);
    }
  }
}

void Loop::run_open(Connection& c) {
  while (auto slot = take(clock_.now())) {
    clock_.sleep_until(slot->due);
    Nanos started = clock_.now();
    c.send();
    Nanos done = clock_.now();
    if (slot->measured) {
      c.record({slot->due, started, done});
      measured(*slot, started, done);
    }
  }
}

void Loop::measured(const Slot& slot, Nanos started, Nanos done) {
  std::lock_guard lock(mu_);
  ++report_.measured;
  last_done_ = std::max(last_done_, done);
  Nanos waited = started - slot.due;
  report_.max_start_delay = std::max(report_.max_start_delay, waited);
  if (open_ && waited > bounds_.late_after) ++report_.late;
}

void Loop::count_unsent() {
  for (Nanos due = peek_due(); due < end_; next_due_.reset(), due = peek_due()) {
    if (due < measure_start_) continue;
    if (bounds_.requests != 0 && taken_ + report_.unsent >= bounds_.requests) break;
    ++report_.unsent;
  }
}

bool Loop::wait(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  if (!finished_.wait_until(lock, deadline, [this] { return running_ == 0; })) return false;
  if (open_) count_unsent();
  report_.seconds = std::chrono::duration<double>(last_done_ - measure_start_).count();
  report_.due = report_.measured + report_.unsent;
  if (report_.seconds > 0)
    report_.achieved_rate = static_cast<double>(report_.measured) / report_.seconds;
  lock.unlock();
  for (auto& t : threads_) t.join();
  threads_.clear();
  return true;
}

LoopReport Loop::report() const {
  std::lock_guard lock(mu_);
  return report_;
}

}  // namespace tajir::loadgen
