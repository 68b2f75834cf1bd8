// Cache: tajir's in-process application cache. It knows nothing of shops or products.
//
// Keys are strings; values are immutable shared byte buffers, so a hit hands out a reference to
// the stored bytes and copies nothing (once memory gets tight, values above a size threshold are
// stored compressed and a hit on them decompresses). On top of get/put it offers what an
// application cache needs to be both fast and never stale:
//
//   - tags on entries and invalidate_tags() that costs what it removes;
//   - tickets: get_or_load() (and put() with a ticket) refuse to store a value that was loaded
//     while one of its tags was invalidated, so an invalidation is never undone by a slow fill;
//   - single-flight: concurrent misses on one key run the loader once and share its result;
//   - rewrite_tags(): an invalidation that may keep what it finds, brought up to date by the
//     caller from the entry's value and version (a sale added to a cached total), atomically
//     with the invalidation;
//   - a byte budget enforced by a pluggable eviction policy, TTLs with jitter (and wall-clock
//     deadlines for values that end at a time of day), background reclamation of expired
//     entries, statistics per value type and a history of them.
//
//   Cache cache({.memory_limit_bytes = 256 << 20});
//   TypeId products = cache.register_type("products");
//   auto page = cache.get_or_load("products:42:page=1", [&]() -> Result<std::string> {
//     return render_products_page(42, 1);             // runs once however many callers miss
//   }, {.tags = {"shop:42", "products:42"}, .type = products});
//   ...
//   cache.invalidate_tags({"products:42"});            // after the write commits
//
// Thread safety: every method is thread-safe. The store is split into shards (a power of two,
// by default 4 x hardware threads), each with its own mutex, its own share of the budget and its
// own eviction policy. A hit takes no lock and writes nothing that another thread's hit writes
// (but a value's reference count, which its holders share: a value the thread hits again and
// again is handed out through an alias counted by the thread alone), so hits on many threads
// scale; changes take one shard's lock. No lock is held while a loader runs.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cache/compression.h"
#include "cache/stats.h"
#include "util/status.h"

namespace tajir::cache {
namespace internal {
class Freshness;
}

// An immutable value shared between the cache and every reader holding it.
using Value = std::shared_ptr<const std::string>;

// A value type ("products", "dashboard"): statistics are kept per type. 0 is "default".
using TypeId = uint8_t;
inline constexpr size_t kMaxTypes = 16;

// A time source the tests can drive. now_ns() is monotonic nanoseconds.
class ManualClock {
 public:
  int64_t now_ns() const { return now_.load(std::memory_order_relaxed); }
  void advance(std::chrono::nanoseconds d) { now_.fetch_add(d.count(), std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_{1'000'000'000};
};

struct Options {
  uint64_t memory_limit_bytes = 256ull << 20;
  size_t shards = 0;             // 0: 4 x hardware threads; rounded up to a power of two
  std::string policy = "tajir";  // see eviction_policy.h
  std::chrono::milliseconds default_ttl{std::chrono::minutes(10)};  // 0: entries never expire
  double ttl_jitter = 0.1;    // each TTL is shortened by up to this fraction, at random
  Codec codec = Codec::kLz4;  // for values of compress_min_bytes or more
  size_t compress_min_bytes = 2048;
  // ...once the cache holds this fraction of its memory limit (0: always). Below it, memory is
  // plentiful and a hit hands out the stored bytes as they are; a compressed value costs a
  // decompression and a copy on every hit.
  double compress_above_fill = 0.5;
  // How often the background thread reclaims expired entries and drops old tag versions;
  // 0 runs no thread (call run_maintenance() yourself).
  std::chrono::milliseconds maintenance_interval{1000};
  std::chrono::milliseconds history_interval{std::chrono::minutes(1)};  // one point per interval
  size_t history_points = 24 * 60;
  // A ticket older than this is refused; invalidated tags' versions are kept this long.
  std::chrono::milliseconds ticket_horizon{std::chrono::minutes(5)};
  const ManualClock* clock = nullptr;  // tests only: time from here instead of steady_clock
  // The wall clock that PutOptions::wall_deadline_ms is read against, in unix ms; empty:
  // std::chrono::system_clock. Tests set it to move wall time apart from monotonic time.
  std::function<int64_t()> wall_clock_ms;
};

// Taken before a load; a put carrying it is refused if what it tags changed meanwhile.
struct Ticket {
  uint64_t epoch = 0;
  int64_t taken_ns = 0;
};

// An entry's version, in the loader's own terms: `number`, what state of its source the value
// reflects (a change sequence), and `aside`, what else a Rewriter needs to know of the value that
// the value does not show (the products just below a cached top five). The aside is charged to
// the entry like its value; keep it small.
struct Version {
  uint64_t number = 0;
  std::string aside;
  bool operator==(const Version&) const = default;
};

struct PutOptions {
  std::vector<std::string> tags;
  std::optional<std::chrono::milliseconds> ttl;  // nullopt: Options::default_ttl; 0: no expiry
  TypeId type = 0;
  // A deadline on the wall clock (unix ms, Options::wall_clock_ms; 0: none), for values that end
  // at a time of day (a shop's midnight): a get at or after it misses and removes the entry,
  // whatever the monotonic clock says (it does not see a wall-clock step, nor, on some VMs, time
  // spent suspended). Give a TTL too: expired entries are reclaimed in the background by TTL.
  int64_t wall_deadline_ms = 0;
  // What state of its source the value reflects, and what else a Rewriter needs to know about
  // it (Version): rewrite_tags() hands it to its Rewriter, which may replace it. nullopt: none.
  // Entries that have one pay 16 bytes after the key (and their aside), the others nothing.
  std::optional<Version> version;
};

// Why invalidate_tags() removes entries: a write changed what they hold (their ages are recorded
// in Stats, see AgeHistogram), or someone cleared them by hand (nothing changed: no age).
enum class InvalidationCause : uint8_t { kWrite, kClear };

enum class PutResult {
  kStored,    // the entry is in the cache (the policy may evict it later as usual)
  kStale,     // the ticket predates an invalidation of a tag or of the key: nothing stored
  kTooLarge,  // larger than one shard's budget: nothing stored
};

// What get_or_load() (and get_with_fingerprint()) hands back: the value, whether it came from
// the cache, and its fingerprint: XXH3-64 of its bytes (uncompressed), computed once when it was
// loaded or put, so that a hit hashes nothing (the API's ETag).
struct Lookup {
  Value value;
  bool hit = false;
  uint64_t fingerprint = 0;
};

// The fingerprint a value of these bytes gets (XXH3-64).
uint64_t fingerprint_of(std::string_view bytes);

// A loader produces a value's bytes, or an error that every waiter receives and nothing caches.
using Loader = std::function<Result<std::string>()>;

// What a TaggedLoader produces: the bytes, and tags (and a TTL and a wall deadline) that depend
// on what it loaded, such as the ids of the items on a page. They are added to the PutOptions'
// tags (and replace its TTL and deadline). The ticket taken before the load covers them too.
struct Loaded {
  std::string value;
  std::vector<std::string> tags;
  std::optional<std::chrono::milliseconds> ttl;
  int64_t wall_deadline_ms = 0;    // replaces PutOptions::wall_deadline_ms when not 0
  std::optional<Version> version;  // replaces PutOptions::version when set
};
using TaggedLoader = std::function<Result<Loaded>()>;

// An entry invalidate_tags() removed.
struct DroppedKey {
  std::string key;
  bool read = false;  // a get hit it since it was stored
};

// What rewrite_tags() does with one entry it found.
struct Rewrite {
  bool keep = false;                 // false: drop it, as invalidate_tags() would
  std::optional<std::string> value;  // kept: its new value (nullopt: the value stays)
  std::optional<Version> version;    // kept: its new version (nullopt: the version stays)
};
// Decides for an entry from its key, its value (decompressed) and its version.
using Rewriter = std::function<Rewrite(std::string_view key, std::string_view value,
                                       std::optional<Version> version)>;

// A live entry a get hit since it was stored, and how long ago it was stored (read_keys()).
struct ReadKey {
  std::string key;
  int64_t age_ms = 0;
};

struct WarmItem {
  std::string key;
  TaggedLoader loader;
  PutOptions options;
};

// What the live entries carrying one tag hold, per value type (indexed by TypeId).
struct TagUsage {
  std::array<uint64_t, kMaxTypes> keys{};
  std::array<uint64_t, kMaxTypes> memory_bytes{};  // their charges, as Stats counts memory
};

struct WarmReport {
  size_t loaded = 0;   // loaded and stored
  size_t present = 0;  // already in the cache: nothing to do
  size_t failed = 0;   // the loader failed, or the value went stale while loading
  std::chrono::milliseconds took{0};
};

class Cache {
 public:
  explicit Cache(Options options = {});
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // Returns the id of a value type, registering it the first time. Types beyond kMaxTypes
  // share id 0.
  TypeId register_type(std::string_view name);

  // The live value under `key`, or nullopt. `type` is the value type the miss is counted under.
  std::optional<Value> get(std::string_view key, TypeId type = 0);
  // As get(), with the value's fingerprint (see Lookup; `hit` is true).
  std::optional<Lookup> get_with_fingerprint(std::string_view key, TypeId type = 0);

  // Stores `value` under `key`, replacing any previous one. With a ticket, the put is refused
  // (kStale) when the key, or one of `options.tags`, was invalidated after the ticket was taken.
  PutResult put(std::string_view key, std::string value, const PutOptions& options = {},
                const Ticket* ticket = nullptr);

  // A ticket for a load about to start; see put().
  Ticket ticket() const;

  // The cached value, or the loader's, run once for all concurrent callers of the same key.
  // A loader error reaches every waiter and is not cached. The caller that ran the loader gets
  // its value whatever happened meanwhile (its read overlapped any write that invalidated it);
  // a caller that waited gets it only if none of its tags, nor the key, was invalidated since
  // the load began, and otherwise loads again. So a caller never sees a value older than a
  // write whose invalidation finished before the call. REQUIRES: the loader does not
  // get_or_load `key` itself. On a thread that must not wait (util/blocking.h: the server's
  // event loops), a miss throws util::WouldBlock before it counts or starts anything.
  Result<Lookup> get_or_load(std::string_view key, const Loader& loader,
                             const PutOptions& options = {});
  // As get_or_load(), with tags chosen by the loader from what it loaded.
  Result<Lookup> get_or_fill(std::string_view key, const TaggedLoader& loader,
                             const PutOptions& options = {});

  // Removes the key and refuses fills of it that started before. Returns whether it was there.
  bool erase(std::string_view key);

  // Removes every entry carrying any of the tags and refuses fills of them that started before.
  // Costs what it removes. Returns how many entries went. With `dropped`, appends the key of
  // each removed entry and whether a get hit it since it was stored (worth loading again).
  size_t invalidate_tags(std::span<const std::string_view> tags,
                         InvalidationCause cause = InvalidationCause::kWrite,
                         std::vector<DroppedKey>* dropped = nullptr);
  size_t invalidate_tags(std::initializer_list<std::string_view> tags,
                         InvalidationCause cause = InvalidationCause::kWrite) {
    return invalidate_tags(std::span<const std::string_view>(tags.begin(), tags.size()), cause);
  }

  // As invalidate_tags(tags, kWrite, dropped), but `rewrite` decides for each entry found
  // whether it goes or stays, as it is or with a new value or version: for a write whose effect
  // on a cached value the caller can compute from the value itself. Fills that began before
  // are refused as by invalidate_tags(). A kept entry is linked to the tag again only if no
  // other invalidation of the tag has taken the tag's keys since this one did, and only if
  // it is still the entry `rewrite` saw (same value, same version); otherwise it is dropped.
  // So when this returns, every entry tagged before it began is gone or is what `rewrite`
  // made of it. `rewrite` runs without any lock (a hit on the entry meanwhile gets the old
  // value: the write is not acknowledged yet), once per entry and tag. Keeping an entry that
  // has no version with a version drops it instead. Returns how many entries went.
  size_t rewrite_tags(std::span<const std::string_view> tags, const Rewriter& rewrite,
                      std::vector<DroppedKey>* dropped = nullptr);

  // Removes every entry whose key matches the glob pattern (fnmatch: * ? [..]). A scan of the
  // whole cache: for rare, administrative use; prefer tags. Refuses every fill that started before.
  size_t invalidate_matching(std::string_view pattern);

  // Removes everything and refuses every fill that started before. Returns how many entries went.
  size_t clear();

  // Fills the items not already cached, with at most `parallelism` loaders at a time.
  WarmReport warm(std::vector<WarmItem> items, size_t parallelism);

  // Reclaims expired entries and forgets old tag versions now. Returns the entries reclaimed.
  size_t run_maintenance();

  // Changes the budget; evicts at once if the cache is above the new one.
  void set_memory_limit(uint64_t bytes);
  uint64_t memory_limit() const { return memory_limit_bytes_.load(std::memory_order_relaxed); }
  // Changes the TTL of the entries stored from now on without one of their own
  // (Options::default_ttl, which options() keeps as it was given); entries stored keep theirs.
  void set_default_ttl(std::chrono::milliseconds ttl) {
    default_ttl_ms_.store(ttl.count(), std::memory_order_relaxed);
  }
  std::chrono::milliseconds default_ttl() const {
    return std::chrono::milliseconds(default_ttl_ms_.load(std::memory_order_relaxed));
  }

  Stats stats() const;
  // For each tag starting with `prefix`, sorted by tag, what the live entries carrying it hold.
  // A walk over every entry, one shard lock at a time: for statistics, never for the hit path.
  std::vector<std::pair<std::string, TagUsage>> usage_by_tag(std::string_view prefix) const;
  // Up to `max` keys of live entries that a get hit since they were stored (and `keep`, if
  // given, accepts; it is called under a shard lock: a pure function of the key), longest stored
  // first (they survived eviction and writes longest while being read; the engine keeps no
  // per-entry hit count, which would cost the hit path a write). A walk over every entry, one
  // shard lock at a time: for a clean stop, never for the hit path.
  std::vector<ReadKey> read_keys(size_t max,
                                 const std::function<bool(std::string_view)>& keep = {}) const;
  // Records one history point now (the maintenance thread does this once per history_interval).
  void record_history_point();
  // The last `max_points` history points, oldest first.
  std::vector<HistoryPoint> history(size_t max_points) const;

  const Options& options() const { return options_; }

 private:
  struct Entry;
  struct Flight;
  struct Shard;
  struct Stripe;
  class ExpiryWheel;
  enum class Probe : uint8_t { kHit, kAbsent, kLocked };

  int64_t now_ns() const;
  int64_t wall_now_ms() const;
  // Whether the entry's wall deadline (if it has one) has passed.
  bool past_wall_deadline(const Entry& e) const;
  // Whether its TTL or its wall deadline has passed.
  bool expired(const Entry& e) const;
  Shard& shard_for(uint64_t hash) const;
  int64_t expiry_for(const PutOptions& options, int64_t now) const;
  uint64_t charge_of(std::string_view key, size_t stored_bytes, const PutOptions& options) const;
  // The hit path of get() and get_or_load(), without a lock. kHit: a live entry under the key;
  // touches it, counts the hit and marks it read (not when `warmup`) and fills `out` (its value
  // null if it failed to decompress). kAbsent: no entry under the key. kLocked: hit_locked()
  // must decide (the entry expired, or the policy's hits need the lock).
  Probe hit_unlocked(Shard& shard, std::string_view key, uint64_t hash, bool warmup, Lookup& out);
  // The same under the lock. REQUIRES: `lock` holds shard.mu. On a hit: as above, the lock is
  // released, and returns true. On a miss: false, with the lock still held; an expired entry is
  // removed (counted as an expiration), not the miss.
  bool hit_locked(std::unique_lock<std::mutex>& lock, Shard& shard, std::string_view key,
                  uint64_t hash, bool warmup, Lookup& out);
  // get() and get_with_fingerprint(): whether `out` got a live, readable value.
  bool get_into(std::string_view key, TypeId type, Lookup& out);
  // How a hit's value is stored, to unpack it once out of the entry's reach.
  struct Packed {
    Codec codec = Codec::kNone;
    uint32_t raw_size = 0;
  };
  // What a hit does to the entry (the policy's touch, the read flag, the count; not when
  // `warmup`), and what it copies out of it.
  void note_hit(Shard& shard, Entry* e, bool warmup, Lookup& out, Packed& packed);
  static void unpack(Lookup& out, Packed packed);
  void count_miss(TypeId type);
  Stripe& stripe() const;  // the calling thread's
  // Hands the policy the hits note_hit() set aside for it. REQUIRES: shard.mu held.
  void fold_hits_locked(Shard& shard);
  PutResult store(std::string_view key, uint64_t hash, const Value& raw, uint64_t fingerprint,
                  const PutOptions& options, const Ticket* ticket);
  // REQUIRES: shard.mu held. remove_locked() takes the entry from the policy too; unlink_locked()
  // is for an entry the policy has let go already (an eviction victim, a replaced entry).
  // `keep_tags`: tags a replacing entry carries; the key stays linked to them. `successor`: the
  // replacing entry, which takes e's place in the table.
  void remove_locked(Shard& shard, Entry* e, std::optional<Counter> why,
                     const std::vector<std::string>* keep_tags = nullptr);
  void unlink_locked(Shard& shard, Entry* e, std::optional<Counter> why,
                     const std::vector<std::string>* keep_tags = nullptr,
                     Entry* successor = nullptr);
  // Frees e once no hit can hold it. REQUIRES: shard.mu held; e is out of the table.
  void retire_locked(Shard& shard, Entry* e);
  void evict_locked(Shard& shard);
  // Removes e (if not null) as invalidated, or as expired when it is. Returns whether it was live.
  // `record_age`: count its age in the invalidated ages (not for clear()).
  bool drop_locked(Shard& shard, Entry* e, int64_t now, bool record_age);
  size_t erase_keys(const std::vector<std::string>& keys, bool record_age,
                    std::vector<DroppedKey>* dropped = nullptr);
  // Drops every entry whose key matches the glob `pattern` (nullptr: every entry), a shard at a
  // time; see drop_locked(). Returns how many were live.
  size_t drop_matching(const char* pattern, bool record_age);
  // A value as an entry stores it: its bytes (compressed when codec != kNone), its size
  // decoded, and the fingerprint of the decoded bytes.
  struct Encoded {
    Value bytes;
    Codec codec = Codec::kNone;
    uint32_t raw_size = 0;
    uint64_t fingerprint = 0;
  };
  // `raw` as stored: compressed when memory is tight and it pays.
  Encoded encode(const Value& raw, uint64_t fingerprint) const;
  // Publishes p in place of old (null: a new key), counting keys and memory, and retires old.
  // REQUIRES: shard.mu held; p not published, with old's key.
  void install_locked(Shard& shard, Entry* old, Entry* p);
  // One entry of rewrite_tags(): see there. Returns whether it was live and went.
  bool rewrite_key(const std::string& key, std::string_view tag, uint64_t seq,
                   const Rewriter& rewrite, std::vector<DroppedKey>* dropped);
  // Replaces a live entry by one with a new value and/or version (nullopt: the old one's),
  // charged anew. REQUIRES: shard.mu held; a version only if e has one.
  void rewrite_locked(Shard& shard, Entry* e, std::optional<Encoded> value,
                      std::optional<Version> version, int64_t now);
  Result<Lookup> load_once(std::string_view key, uint64_t hash, const TaggedLoader& loader,
                           const PutOptions& options, bool warmup, PutResult* put_result);
  void maintenance_loop(std::stop_token stop);
  void note_memory(int64_t delta);

  Options options_;
  std::unique_ptr<Shard[]> shards_;
  size_t shard_count_;
  std::unique_ptr<Stripe[]> stripes_;  // hit and miss counters, per thread index
  size_t stripe_count_;
  std::unique_ptr<class TagIndex> tags_;
  std::unique_ptr<internal::Freshness> freshness_;  // epochs and tickets, over tags_
  std::atomic<int64_t> memory_bytes_{0};
  std::atomic<int64_t> peak_memory_bytes_{0};
  std::atomic<uint64_t> memory_limit_bytes_;
  std::atomic<int64_t> default_ttl_ms_;

  mutable std::mutex types_mu_;
  std::vector<std::string> type_names_;  // GUARDED_BY(types_mu_)

  mutable std::mutex history_mu_;
  std::vector<HistoryPoint> history_;  // GUARDED_BY(history_mu_); a ring of history_points
  size_t history_next_ = 0;            // GUARDED_BY(history_mu_)
  uint64_t history_last_hits_ = 0;     // GUARDED_BY(history_mu_)
  uint64_t history_last_misses_ = 0;   // GUARDED_BY(history_mu_)

  std::mutex maintenance_mu_;
  std::condition_variable_any maintenance_cv_;
  std::jthread maintenance_;  // last: stopped and joined first
};

}  // namespace tajir::cache
