// BackgroundWarmer<K>: one thread that runs a job for each key it is asked about, off the request
// path.
//
// Used with shops as keys at login (the shop's first product page, dashboard and first customer
// page are loaded before the till asks for them), and with cache keys after writes (each hot
// entry a write invalidated is read again, so the next reader hits). Bounded: one thread, a key
// is queued at most once (asking again while it waits does nothing), a key done less than
// `min_gap` ago is skipped, and at most `max_pending` keys wait: more are dropped and counted.
// Keys still queued at destruction are dropped.
//
// Thread safety: request() and the counters from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>

namespace tajir::api {

// Why entries were warmed, for the stats' warmups by cause.
enum class WarmCause : uint8_t {
  kStartup,   // --warm: every shop's essentials before serving
  kRestart,   // the hot keys of the last clean stop
  kLogin,     // a shop's essentials at a login
  kUser,      // what the user who logged in reads most
  kClock,     // ahead of a shop's busy hour (ClockWarmer)
  kMidnight,  // a shop's dashboard after its midnight (ClockWarmer)
  kManual,    // POST /api/cache/warm
  kOptimize,  // POST /api/cache/optimize
};
inline constexpr std::array<std::string_view, 8> kWarmCauses = {
    "startup", "restart", "login", "user", "clock", "midnight", "manual", "optimize"};

// Entries each cause loaded into the cache (present ones are not counted).
class WarmCounts {
 public:
  void add(WarmCause cause, uint64_t loaded) {
    counts_[static_cast<size_t>(cause)].fetch_add(loaded, std::memory_order_relaxed);
  }
  uint64_t of(WarmCause cause) const {
    return counts_[static_cast<size_t>(cause)].load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<uint64_t>, kWarmCauses.size()> counts_{};
};

template <typename K>
class BackgroundWarmer {
 public:
  using Job = std::function<void(const K&)>;

  BackgroundWarmer(Job job, std::chrono::milliseconds min_gap, size_t max_pending = 1024)
      : job_(std::move(job)), min_gap_(min_gap), max_pending_(max_pending) {
    thread_ = std::jthread([this](std::stop_token st) { loop(st); });
  }
  ~BackgroundWarmer() {
    thread_.request_stop();
    cv_.notify_all();
  }

  void request(const K& key) {
    {
      std::lock_guard lock(mu_);
      if (queued_.contains(key)) return;
      if (min_gap_.count() > 0) {
        auto it = last_.find(key);
        if (it != last_.end() && std::chrono::steady_clock::now() - it->second < min_gap_) return;
      }
      if (queue_.size() >= max_pending_) {
        ++dropped_;
        return;
      }
      queued_.insert(key);
      queue_.push_back(key);
    }
    cv_.notify_one();
  }

  // Jobs run so far, and requests dropped because max_pending were waiting.
  uint64_t completed() const {
    std::lock_guard lock(mu_);
    return completed_;
  }
  uint64_t dropped() const {
    std::lock_guard lock(mu_);
    return dropped_;
  }

 private:
  void loop(std::stop_token st) {
    while (true) {
      K key;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, st, [&] { return !queue_.empty(); });
        if (st.stop_requested()) return;
        key = std::move(queue_.front());
        queue_.pop_front();
        queued_.erase(key);
        if (min_gap_.count() > 0) last_[key] = std::chrono::steady_clock::now();
      }
      job_(key);
      std::lock_guard lock(mu_);
      ++completed_;
    }
  }

  Job job_;
  std::chrono::milliseconds min_gap_;
  size_t max_pending_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<K> queue_;                                      // GUARDED_BY(mu_)
  std::set<K> queued_;                                       // GUARDED_BY(mu_)
  std::map<K, std::chrono::steady_clock::time_point> last_;  // GUARDED_BY(mu_); with min_gap only
  uint64_t completed_ = 0;                                   // GUARDED_BY(mu_)
  uint64_t dropped_ = 0;                                     // GUARDED_BY(mu_)
  std::jthread thread_;                                      // last: stopped and joined first
};

}  // namespace tajir::api
