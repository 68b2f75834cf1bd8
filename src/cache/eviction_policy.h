// EvictionPolicy: decides which entry leaves when a cache shard is over its budget.
//
// A policy tracks nodes that live inside the cache's entries (intrusive: a policy allocates
// nothing per entry, and the cache owns every node). The cache calls insert() for a new entry,
// touch() on a hit, remove() when an entry leaves for any reason other than eviction (erase,
// invalidation, expiry, replacement), and evict() while the tracked charge is over capacity.
// Charges are in the cache's unit: bytes for the engine, 1 per object for the simulator.
//
// The same objects serve the engine and `tajir-cachesim`, so the miss ratios the simulator
// prints are those of the code that runs in production.
//
// Thread safety: each cache shard owns one policy and calls it under the shard's lock, except
// touch_unlocked(), which a policy whose lock_free_touch() is true lets hits call without it.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace tajir::cache {

// Per-entry state shared by all policies. Fields marked policy-private may be used by the
// policy that tracks the node as it likes; the cache never reads them.
struct PolicyNode {
  PolicyNode* prev = nullptr;  // policy-private: intrusive list links
  PolicyNode* next = nullptr;  // policy-private
  uint64_t hash = 0;           // set by the cache before insert(): a well-mixed hash of the key
  uint64_t charge = 0;         // set by the cache before insert(): never changes while tracked
  uint32_t aux = 0;            // policy-private (atomic_ref'd by a lock_free_touch() policy)
  uint8_t queue = 0;           // policy-private: which queue the node is in
  uint8_t freq = 0;            // policy-private: access counter / reference bit (same)
};

// What a policy can tell about itself, for statistics and recommendations.
struct PolicyCounters {
  uint64_t ghost_hits =
      0;  // misses on keys the policy evicted recently (would have hit with more memory)
  uint64_t ghost_charge = 0;  // charge those ghost hits would have needed, summed
};

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;

  // Short stable name ("lru", "fifo", "tajir", ...).
  virtual std::string_view name() const = 0;

  // Starts tracking a new node. REQUIRES: node is not tracked; hash and charge are set.
  virtual void insert(PolicyNode* node) = 0;

  // Records a hit. REQUIRES: node is tracked. Called on the hit path: keep it O(1) and cheap.
  virtual void touch(PolicyNode* node) = 0;

  // Whether hits may call touch_unlocked() and record_hits() instead of touch().
  virtual bool lock_free_touch() const { return false; }
  // The part of touch() that concerns the node alone, safe without the lock: concurrently with
  // other hits and with any call made under the lock. It writes only the node's policy-private
  // fields, through relaxed atomics, and only those that change (a hot entry's hits write
  // nothing); two racing updates may count as one. REQUIRES: lock_free_touch(); node is
  // tracked, or was and is still allocated (a hit may race with its entry's removal).
  virtual void touch_unlocked(PolicyNode* node) { (void)node; }
  // Tells the policy about `n` more hits recorded by touch_unlocked(), for its own state (the
  // tajir policy's sketch ages by accesses). touch() is touch_unlocked() and record_hits(1).
  virtual void record_hits(uint64_t n) { (void)n; }

  // Stops tracking a node that leaves for a reason other than eviction. REQUIRES: node is tracked.
  virtual void remove(PolicyNode* node) = 0;

  // Chooses a victim, stops tracking it and returns it; nullptr when nothing is tracked.
  // The victim may be the node inserted last (an admission policy may reject it).
  virtual PolicyNode* evict() = 0;

  // Sum of the charges of the tracked nodes.
  virtual uint64_t charge() const = 0;

  // The budget the policy sizes its internal queues against. The cache evicts while
  // charge() > capacity(); set_capacity() does not evict by itself.
  virtual uint64_t capacity() const = 0;
  virtual void set_capacity(uint64_t capacity) = 0;

  virtual PolicyCounters counters() const { return {}; }
};

// The policies built in. "tajir" is the engine's default.
// Returns nullptr for an unknown name.
std::unique_ptr<EvictionPolicy> make_eviction_policy(std::string_view name, uint64_t capacity);

// The name of the default policy, as make_eviction_policy() knows it.
inline constexpr std::string_view kDefaultPolicy = "tajir";

}  // namespace tajir::cache
