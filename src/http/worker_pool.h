// WorkerPool: a fixed set of threads that run jobs which may wait (SQL, password hashing), with
// a bounded queue, so work that can block never runs on an event loop and a flood of it is
// refused at once instead of piling up latency.
//
//   WorkerPool pool({.threads = 5, .queue_limit = 256});
//   if (!pool.try_submit([=] { ... })) answer_503();
//
// Jobs start in the order they were submitted. The destructor (and stop()) runs the jobs already
// queued, then joins the threads.
//
// Thread safety: thread-safe. stop() and the destructor must not run on one of the pool's
// threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tajir::http {

struct WorkerPoolOptions {
  size_t threads = 4;        // at least 1
  size_t queue_limit = 256;  // jobs waiting for a thread; past it try_submit() refuses
};

class WorkerPool {
 public:
  using Options = WorkerPoolOptions;
  using Job = std::function<void()>;

  explicit WorkerPool(Options options);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues the job; false (and the job is not run) when queue_limit jobs are already waiting
  // or the pool is stopping. A job that throws is a bug: it terminates the process.
  bool try_submit(Job job);

  // Runs what is queued, then joins. Later try_submit()s are refused. Idempotent.
  void stop();

  struct Stats {
    size_t threads = 0;
    size_t queued = 0;  // waiting for a thread
    size_t busy = 0;    // running now
    uint64_t done = 0;
    uint64_t rejected = 0;
  };
  Stats stats() const;

 private:
  void work();

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Job> queue_;  // GUARDED_BY(mu_)
  size_t busy_ = 0;        // GUARDED_BY(mu_)
  uint64_t done_ = 0;      // GUARDED_BY(mu_)
  uint64_t rejected_ = 0;  // GUARDED_BY(mu_)
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace tajir::http
