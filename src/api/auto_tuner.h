// AutoTuner (--auto-tune): the cache tuning itself. Once a period it applies one of optimize's
// recommendations (cache_report.h: the memory limit from ghost hits or an unused budget; the
// default TTL from how long values stayed true, for the type read most that has advice),
// clamped to the operator's bounds, and logs it with the figure behind it. The next period
// judges it: if the hit rate fell by more than `tolerance` against the period before the
// change, the change is backed out, logged too, and that setting is left alone for
// `cooldown` periods. One change on trial at a time; a period with fewer than `min_requests`
// gets and misses judges nothing and changes nothing.
//
// Thread safety: thread-safe; step() runs on the tuner's thread (or a test's), one at a time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache.h"

namespace tajir::api {

class AutoTuner {
 public:
  struct Options {
    uint64_t min_memory = 16ull << 20, max_memory = 1ull << 30;  // bytes
    std::chrono::seconds min_ttl{60}, max_ttl{3600};
    std::chrono::milliseconds period{std::chrono::minutes(10)};  // 0: no thread (tests)
    double tolerance = 0.02;  // a drop of the hit rate by more than this backs a change out
    uint64_t min_requests = 1000;
    int cooldown = 6;  // periods a backed-out setting is left alone
  };
  struct Change {
    int64_t at_ms = 0;    // unix ms
    std::string setting;  // "cache-memory" (bytes) or "cache-ttl" (seconds)
    int64_t from = 0, to = 0;
    std::string because;  // the recommendation's figure
    std::string outcome;  // "on trial", "kept: ...", "backed out: ..."
  };

  AutoTuner(cache::Cache& cache, Options options);
  ~AutoTuner();
  AutoTuner(const AutoTuner&) = delete;
  AutoTuner& operator=(const AutoTuner&) = delete;

  // One period's work.
  void step();
  // The last 32 changes, oldest first.
  std::vector<Change> changes() const;
  const Options& options() const { return options_; }

 private:
  void loop(std::stop_token stop);
  // Applies `to` for `setting` and puts it on trial against `baseline`.
  void apply(const std::string& setting, int64_t from, int64_t to, std::string because,
             double baseline);
  void set(const std::string& setting, int64_t value);

  cache::Cache& cache_;
  const Options options_;
  mutable std::mutex mu_;
  uint64_t hits_ = 0, misses_ = 0;        // GUARDED_BY(mu_): at the last step
  std::optional<double> trial_baseline_;  // GUARDED_BY(mu_): the hit rate before the change
  uint64_t steps_ = 0;                    // GUARDED_BY(mu_): periods judged
  std::map<std::string, uint64_t>
      barred_;                  // GUARDED_BY(mu_): per setting, the last period it is left alone
  std::deque<Change> changes_;  // GUARDED_BY(mu_)
  std::mutex wake_mu_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped and joined first
};

}  // namespace tajir::api
