// BackgroundWarmer: one thread that warms a shop's essentials when asked, off the request path.
//
// Used at login (the shop's first product page, dashboard and first customer page are loaded
// before the till asks for them) and, when refill is on, after writes (what a bill or an edit
// invalidated is loaded again, so the next reader hits). Bounded: one thread, at most one
// pending request per shop (asking again while one is queued does nothing), and a shop warmed
// less than `min_gap` ago is skipped. Requests still queued at destruction are dropped.
//
// Thread safety: request() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace tajir::api {

class BackgroundWarmer {
 public:
  using Job = std::function<void(int64_t shop)>;

  BackgroundWarmer(Job job, std::chrono::milliseconds min_gap) : job_(std::move(job)), min_gap_(min_gap) {
    thread_ = std::jthread([this](std::stop_token st) { loop(st); });
  }
  ~BackgroundWarmer() {
    thread_.request_stop();
    cv_.notify_all();
  }

  void request(int64_t shop) {
    {
      std::lock_guard lock(mu_);
      auto now = std::chrono::steady_clock::now();
      auto it = last_.find(shop);
      if (queued_.count(shop) > 0 || (it != last_.end() && now - it->second < min_gap_)) return;
      queued_[shop] = true;
      queue_.push_back(shop);
    }
    cv_.notify_one();
  }

  // Shops warmed so far.
  uint64_t completed() const {
    std::lock_guard lock(mu_);
    return completed_;
  }

 private:
  void loop(std::stop_token st) {
    while (true) {
      int64_t shop = 0;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, st, [&] { return !queue_.empty(); });
        if (st.stop_requested()) return;
        shop = queue_.front();
        queue_.pop_front();
        queued_.erase(shop);
        last_[shop] = std::chrono::steady_clock::now();
      }
      job_(shop);
      std::lock_guard lock(mu_);
      ++completed_;
    }
  }

  Job job_;
  std::chrono::milliseconds min_gap_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<int64_t> queue_;                                           // GUARDED_BY(mu_)
  std::map<int64_t, bool> queued_;                                      // GUARDED_BY(mu_)
  std::map<int64_t, std::chrono::steady_clock::time_point> last_;      // GUARDED_BY(mu_)
  uint64_t completed_ = 0;                                              // GUARDED_BY(mu_)
  std::jthread thread_;  // last: stopped and joined first
};

}  // namespace tajir::api
