// AccessLog: the server's one line per request, formatted and written by a background thread so
// that an event loop only appends a record to a buffer of its own.
//
//   AccessLog log(logger, /*shards=*/io_threads);
//   log.add(loop_index, {.request_id = ..., .status = 200, ...});   // on loop `loop_index`
//
// Each line, at info level, is
//   request id=... method=GET target=/x status=200 bytes=123 us=456 remote=127.0.0.1:5555
// with the method and target escaped (http::escape_for_log). Lines reach the logger within
// about 50 ms, in order per shard; the destructor writes what is left.
//
// Thread safety: add() from any thread (one shard's records are appended under its own lock,
// which only the writer shares); flush() from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace spdlog {
class logger;
}

namespace tajir::http {

struct AccessRecord {
  std::string request_id;
  std::string method;
  std::string target;
  std::string remote_address;
  uint16_t remote_port = 0;
  int status = 0;
  size_t bytes = 0;
  int64_t us = 0;
};

class AccessLog {
 public:
  // `logger` null: records are dropped (the log is off).
  AccessLog(std::shared_ptr<spdlog::logger> logger, size_t shards);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  bool enabled() const { return logger_ != nullptr; }
  void add(size_t shard, AccessRecord record);
  // Writes every record added so far.
  void flush();

 private:
  struct alignas(64) Shard {
    std::mutex mu;
    std::vector<AccessRecord> pending;  // GUARDED_BY(mu)
  };
  void write_loop();

  std::shared_ptr<spdlog::logger> logger_;
  std::vector<Shard> shards_;
  std::mutex write_mu_;  // one writer at a time: lines of a shard stay in order
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(wake_mu_)
  std::thread writer_;
};

}  // namespace tajir::http
