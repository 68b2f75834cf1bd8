// HistoryWriter: keeps the cache's statistics history in the database (pos/cache_history.h),
// so that GET /api/cache/stats/history?hours=N or ?days=N answers across restarts.
//
// The in-memory history stays as it is: the engine records a point of the whole server's
// figures once per history interval, ShopStats one per shop. A background thread, once per
// that interval, takes the points recorded since its last pass and adds them to their hour's
// and day's rows (one transaction; the rows of each shop bounded by the limits), off the
// request path. stop() records a last point of each (the interval in progress) and writes it
// too, so a clean stop loses nothing; a kill loses at most the last two intervals. A write
// that fails is logged and its points dropped: the history is statistics, it never holds up
// the server.
//
// Thread safety: thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "api/read_cache.h"
#include "pos/pos.h"

namespace tajir::api {

class HistoryWriter {
 public:
  // REQUIRES: reads.engine() is not null; `pos` and `reads` outlive the writer.
  HistoryWriter(pos::Pos& pos, ReadCache& reads, pos::CacheHistoryLimits limits);
  ~HistoryWriter();  // stop()
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  // Records the interval in progress, writes what is left and stops the thread. Idempotent.
  void stop();

  const pos::CacheHistoryLimits& limits() const { return limits_; }

 private:
  void write_new_points();  // REQUIRES: write_mu_ held (by the caller's lock)
  void loop(std::stop_token stop);

  pos::Pos& pos_;
  ReadCache& reads_;
  const pos::CacheHistoryLimits limits_;
  std::mutex write_mu_;
  int64_t server_after_ms_ = 0;  // GUARDED_BY(write_mu_): the newest point written, per scope
  int64_t shops_after_ms_ = 0;   // GUARDED_BY(write_mu_)
  bool stopped_ = false;         // GUARDED_BY(write_mu_)
  std::mutex wake_mu_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped and joined first
};

}  // namespace tajir::api
