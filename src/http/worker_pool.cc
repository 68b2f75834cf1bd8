#include "http/worker_pool.h"

#include <algorithm>

namespace tajir::http {

WorkerPool::WorkerPool(Options options) : options_(options) {
  size_t n = std::max<size_t>(1, options_.threads);
  threads_.reserve(n);
  for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::try_submit(Job job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.queue_limit) {
      ++rejected_;
      return false;
    }
    queue_.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

WorkerPool::Stats WorkerPool::stats() const {
  std::lock_guard lock(mu_);
  return {threads_.size(), queue_.size(), busy_, done_, rejected_};
}

void WorkerPool::work() {
  std::unique_lock lock(mu_);
  while (true) {
    ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to run
    Job job = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    job();
    job = nullptr;  // what it holds goes before the next job starts
    lock.lock();
    --busy_;
    ++done_;
  }
}

}  // namespace tajir::http
