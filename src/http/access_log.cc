#include "http/access_log.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "http/http.h"

namespace tajir::http {
namespace {
constexpr auto kWriteInterval = std::chrono::milliseconds(50);
}

AccessLog::AccessLog(std::shared_ptr<spdlog::logger> logger, size_t shards)
    : logger_(std::move(logger)), shards_(std::max<size_t>(1, shards)) {
  if (logger_) writer_ = std::thread([this] { write_loop(); });
}

AccessLog::~AccessLog() {
  if (!writer_.joinable()) return;
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
  flush();
}

void AccessLog::add(size_t shard, AccessRecord record) {
  if (!logger_) return;
  Shard& s = shards_[shard % shards_.size()];
  std::lock_guard lock(s.mu);
  s.pending.push_back(std::move(record));
}

void AccessLog::flush() {
  if (!logger_) return;
  std::lock_guard writing(write_mu_);
  std::vector<AccessRecord> batch;
  for (Shard& s : shards_) {
    {
      std::lock_guard lock(s.mu);
      batch.swap(s.pending);
    }
    for (const AccessRecord& r : batch) {
      logger_->info("request id={} method={} target={} status={} bytes={} us={} remote={}:{}",
                    r.request_id, escape_for_log(r.method), escape_for_log(r.target), r.status,
                    r.bytes, r.us, r.remote_address, r.remote_port);
    }
    batch.clear();  // keeps its capacity for the next shard
  }
}

void AccessLog::write_loop() {
  std::unique_lock lock(wake_mu_);
  while (!stopping_) {
    wake_.wait_for(lock, kWriteInterval, [&] { return stopping_; });
    lock.unlock();
    flush();
    lock.lock();
  }
}

}  // namespace tajir::http
