#include "api/history_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace tajir::api {

HistoryWriter::HistoryWriter(pos::Pos& pos, ReadCache& reads, pos::CacheHistoryLimits limits)
    : pos_(pos), reads_(reads), limits_(limits) {
  thread_ = std::jthread([this](std::stop_token stop) { loop(stop); });
}

HistoryWriter::~HistoryWriter() { stop(); }

void HistoryWriter::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(write_mu_);
  if (stopped_) return;
  stopped_ = true;
  reads_.engine()->record_history_point();
  reads_.shops().record_point();
  write_new_points();
}

void HistoryWriter::loop(std::stop_token stop) {
  const auto interval = reads_.engine()->options().history_interval;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(wake_mu_);
      wake_.wait_for(lock, stop, interval, [] { return false; });
    }
    if (stop.stop_requested()) return;
    std::lock_guard lock(write_mu_);
    write_new_points();
  }
}

void HistoryWriter::write_new_points() {
  std::vector<pos::CacheHistoryPoint> points;
  int64_t server_after = server_after_ms_, shops_after = shops_after_ms_;
  const cache::Cache& engine = *reads_.engine();
  for (const cache::HistoryPoint& p : engine.history(engine.options().history_points)) {
    const int64_t at =
        std::chrono::duration_cast<std::chrono::milliseconds>(p.at.time_since_epoch()).count();
    if (at <= server_after_ms_) continue;
    points.push_back({0, at, p.hits, p.misses, p.keys, p.memory_bytes});
    server_after = std::max(server_after, at);
  }
  for (const auto& [shop, p] : reads_.shops().points_since(shops_after_ms_)) {
    points.push_back({shop, p.at_ms, p.hits, p.misses, p.keys, p.memory_bytes});
    shops_after = std::max(shops_after, p.at_ms);
  }
  server_after_ms_ = server_after;  // a failed write is not tried again: statistics only
  shops_after_ms_ = shops_after;
  if (Status st = pos_.add_cache_history(points, limits_); !st.ok())
    spdlog::warn("cache history: {} points not stored: {}", points.size(), st.message());
}

}  // namespace tajir::api
