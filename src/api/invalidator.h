// Invalidator: what every write does after its transaction commits and before it answers.
//
// It drops the tags pos::CacheMap names for the change (through ReadCache), and, with refill
// on, asks a background thread to load again each dropped entry that a get had hit since it
// was stored: that GET is sent again through the router as the shop's operator (with
// Access's per-process internal token), so it fills with a ticket like any read and cannot
// put back a value a later write changed. A refilled entry keeps being refilled for the next
// kRefillCredit writes even if nobody reads it in between (a page that sales change faster
// than tills read it would otherwise go cold after one refill); unread for longer, it is let
// go. At most kMaxPendingRefills keys wait; more are dropped and counted.
//
// Thread safety: thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/read_cache.h"
#include "api/warmer.h"
#include "http/router.h"

namespace tajir::api {

// What a bill or a void brings up to date instead of dropping (api/maintained.h): change `seq`
// of `shop` (pos::SalesChange), and the Rewriter that applies it. `in_order`: every change of
// the shop since this node first maintained one has been maintained here, each after the one
// before it (so an entry at an older version was touched by none of those in between).
struct Maintenance {
  int64_t shop = 0;
  int64_t seq = 0;
  std::function<cache::Rewriter(bool in_order)> rewriter;
};

struct RefillStats {
  uint64_t refilled = 0;
  uint64_t dropped = 0;
};

class Invalidator {
 public:
  // `router` may be set later (set_router), before the first write; `delay` is fault
  // injection for tests (a wait between commit and invalidation).
  Invalidator(ReadCache& reads, std::string internal_token, bool refill,
              std::chrono::milliseconds delay);
  ~Invalidator();

  void set_router(const http::Router* router) { router_ = router; }
  // Stops the refill's thread (it routes requests): before the router or the handlers go.
  void stop() { refiller_.reset(); }

  // After a write committed (or was found committed: a replayed bill, a bill already void),
  // before anything about it is answered. With `maintenance` (a bill's or a void's), the
  // entries its Rewriter keeps are brought up to date instead of dropped (and not refilled).
  // Those invalidations run one at a time per shop, in the order of the shop's changes: one
  // that took the tags' keys while another was bringing them up to date would make it drop
  // them, and change n applies only to reads at change n - 1. Change n waits for change n - 1
  // at most kPatience (that may be a change without a Rewriter: a new time zone).
  // Not OK (ReadCache::invalidate): the write must not be acknowledged.
  [[nodiscard]] Status after_write(const std::vector<std::string>& tags,
                                   const Maintenance* maintenance = nullptr);

  // Sends again, on this thread, the GET that filled `key` (ReadCache::read_of), as its shop's
  // operator: it loads like any read, with a ticket. Returns false for keys that are no
  // request's read (sessions, page indexes) or before set_router.
  bool replay(const std::string& key) const;

  bool refill_enabled() const { return refiller_ != nullptr; }
  RefillStats refill_stats() const;

  static constexpr size_t kMaxPendingRefills = 4096;
  static constexpr int kRefillCredit = 3;
  static constexpr std::chrono::milliseconds kPatience{50};

 private:
  ReadCache* reads_;
  std::string internal_token_;
  std::chrono::milliseconds delay_;
  const http::Router* router_ = nullptr;
  // By shop: the newest change whose maintenance has run, whether every one before it has run
  // in order (a change this node did not maintain, another node's or a new time zone, breaks
  // the order for good), and a wait for it.
  struct Progress {
    int64_t done = 0;
    bool in_order = true;
  };
  struct Sequence {
    std::mutex mu;
    std::condition_variable advanced;
    std::unordered_map<int64_t, Progress> done;  // GUARDED_BY(mu): by shop
  };
  std::array<Sequence, 64> sequences_;
  std::mutex credits_mu_;
  std::unordered_map<std::string, int> credits_;  // GUARDED_BY(credits_mu_): refills left unread
  std::unique_ptr<BackgroundWarmer<std::string>> refiller_;  // null without a cache or refill
};

}  // namespace tajir::api
