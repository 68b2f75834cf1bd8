// redis::Tier: Redis as a second cache tier behind the local one, that never serves or keeps
// a stale value. docs/CACHE.md ("The Redis tier") has the whole argument; in short:
//
// Every key of a shop carries its hash tag (`{s42}`), so its values, its tag versions, its
// counter and the scripts that touch them share one Cluster slot.
//   {s42}:v:<key>   a value: its bytes, all its tags (for the local tier), the version of each
//                   of the shop's tags when it was stored, and a wall deadline (0: none)
//   {s42}:tv:<tag>  a tag's version; {s42}:gen is one more, that every value records
//   {s42}:inv       the shop's invalidation counter
// - invalidate() (before a write is acknowledged) raises, in one script per shop, the
//   versions of the shop's tags and its counter;
// - get() (one script) returns a value only if every version it recorded is still current,
//   and otherwise the shop's counter: the ticket of the fill that follows;
// - put() (one script) stores only if the counter still equals the ticket (no invalidation of
//   the shop happened while the fill loaded), recording the versions current then;
// - a version key lives at least as long as every value that recorded it (a store extends
//   it), so a version that expired cannot come back and revive an old value.
// An invalidation that does not reach Redis puts its shops on a pending list: while it is
// not empty, get() and put() do not use Redis at all (bypassed), and repair() (the background
// thread, every sample interval) raises each pending shop's generation ({s42}:gen and the
// counter), which makes every value stored before unreadable and refuses every fill whose
// ticket came before, and only then lets Redis be used again.
//
// What the caller must do (api/read_cache.cc does): a value from get() goes into the local
// tier under a ticket taken before get(); a write invalidates the local tier, then Redis, then
// the local tier again (a local fill from Redis between the first two would otherwise outlive
// the write), and only then answers.
//
// Redis must not evict keys without a TTL (noeviction, the default, or a volatile-* policy):
// with an allkeys-* maxmemory-policy the tier is not used (state evicting), checked at start
// and with every sample.
//
// In a Redis Cluster (ClientOptions::cluster), one shop's scripts touch one slot; what makes
// an old value unreadable (invalidate(), repair()) is replicated before it counts (WAIT, see
// redis/client.h), so that a replica promoted by a failover has it; INFO memory is summed over
// the masters, and the maxmemory-policy must hold on each.
//
// Errors never reach the caller: a Redis that is down or slow makes get() a bypass and put()
// a no-op, and is counted.
//
// Thread safety: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "redis/client.h"

namespace tajir::redis {

struct TierOptions {
  ClientOptions client;
  // The longest a value stays in Redis (also the TTL of values with none).
  std::chrono::milliseconds max_ttl{std::chrono::hours(24)};
  // How often the background thread samples INFO memory and repairs pending shops; 0: no
  // thread (call sample() and repair() yourself).
  std::chrono::milliseconds sample_interval{std::chrono::seconds(2)};
  // Fault injection for tests: put() waits this long before it stores (a slow fill).
  std::chrono::milliseconds store_delay{0};
};

// What a fill that missed must present to store: the shop's counter when it missed.
struct Ticket {
  int64_t shop = 0;
  std::string counter;
};

// A value found in Redis, with what the local tier needs to keep it.
struct Found {
  std::string body;
  std::vector<std::string> tags;
  std::chrono::milliseconds ttl{0};  // what is left of its TTL in Redis
  int64_t wall_deadline_ms = 0;
};

// get()'s answer: a value, or a ticket to store the fill under, or neither (Redis bypassed:
// down, an error, or pending shops).
struct Lookup {
  std::optional<Found> found;
  std::optional<Ticket> ticket;
};

// What a fill stores.
struct Fill {
  std::string_view body;
  const std::vector<std::string>* tags = nullptr;  // all of them, handed back by get()
  std::vector<std::string_view> shop_tags;         // those of the ticket's shop: versioned
  std::chrono::milliseconds ttl{0};                // 0: max_ttl
  int64_t wall_deadline_ms = 0;
};

// One shop's part of an invalidation.
struct ShopTags {
  int64_t shop = 0;
  std::vector<std::string> tags;
};

enum class TierState { kUp, kDown, kRepairing, kEvicting };
std::string_view to_string(TierState s);

struct TierStats {
  uint64_t hits = 0;                  // get() found a current value
  uint64_t misses = 0;                // get() found none (or an outdated one): a ticket
  uint64_t bypassed = 0;              // get() did not use Redis (down, or shops pending)
  uint64_t errors = 0;                // calls to Redis that failed
  uint64_t stores = 0;                // put() stored
  uint64_t stale_stores = 0;          // put() refused: the shop was invalidated after the ticket
  uint64_t invalidations = 0;         // shops' invalidations that reached Redis
  uint64_t missed_invalidations = 0;  // shops' invalidations that did not (made pending)
  uint64_t generations_raised = 0;    // pending shops repaired
  uint64_t read_us = 0;               // time in get()'s calls that reached Redis, summed
  uint64_t reads_timed = 0;
  size_t pending_shops = 0;
  bool connected = false;
  bool cluster = false;    // a Redis Cluster (else one Redis)
  size_t masters = 1;      // its masters
  uint64_t redirects = 0;  // Cluster redirections (-MOVED, -ASK, -TRYAGAIN) followed
  TierState state = TierState::kDown;
  std::optional<uint64_t> used_memory, used_memory_peak;  // INFO memory, last sample
  std::optional<double> latency_us() const {
    if (reads_timed == 0) return std::nullopt;
    return static_cast<double>(read_us) / static_cast<double>(reads_timed);
  }
};

class Tier {
 public:
  explicit Tier(TierOptions options);
  ~Tier();
  Tier(const Tier&) = delete;
  Tier& operator=(const Tier&) = delete;

  // The value of `key` (a key of `shop`), if Redis has it current; else a ticket. Calls
  // util::blocking_point() first.
  Lookup get(int64_t shop, std::string_view key);
  // Stores a fill loaded after `ticket` was taken, unless the shop was invalidated since.
  void put(const Ticket& ticket, std::string_view key, const Fill& fill);
  // Raises the versions of these tags (each group of one shop) and the shops' counters; on
  // failure the shops become pending. Returns whether it reached Redis.
  bool invalidate(const std::vector<ShopTags>& groups);
  // Raises the generation of every pending shop; returns whether none is left.
  bool repair();
  // Makes these shops pending and repairs them: every value stored for them before is
  // unreadable once this returns true (else they stay pending, and Redis unused, until then).
  bool raise_generations(const std::vector<int64_t>& shops);
  // Samples INFO memory.
  void sample();

  TierStats stats() const;
  const TierOptions& options() const { return options_; }

 private:
  void count(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }
  void make_pending(const std::vector<ShopTags>& groups);
  // Reads maxmemory-policy (at start and with each sample).
  void check_policy();
  void background(std::stop_token stop);

  const TierOptions options_;
  Client client_;
  std::atomic<bool> any_pending_{false};
  std::atomic<bool> evicting_{false};  // Redis may evict keys without a TTL: not used
  mutable std::mutex pending_mu_;
  std::set<int64_t> pending_;  // GUARDED_BY(pending_mu_)
  std::atomic<uint64_t> hits_{0}, misses_{0}, bypassed_{0}, errors_{0}, stores_{0},
      stale_stores_{0}, invalidations_{0}, missed_{0}, raised_{0}, read_us_{0}, reads_timed_{0};
  std::atomic<int64_t> used_memory_{-1}, used_memory_peak_{-1};
  std::mutex wake_mu_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped first
};

}  // namespace tajir::redis
