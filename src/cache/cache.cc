// The sharded store behind Cache.
//
// Layout. A key's 64-bit XXH3 hash picks its shard (bits 40 and up) and its slot in the shard's
// open-addressing table (internal::EntryTable, which keeps the stored hash, so a rehash never
// rehashes a key). An Entry is one allocation holding the key, the policy's intrusive node, the
// expiry, the value's fingerprint and the tags; the value is a shared immutable buffer, handed
// out by reference on a hit.
//
// Locks. Each shard has one mutex guarding its table, its policy, its expiry wheel and its
// in-flight loads; everything that changes them takes it. Tag index shards have their own
// mutexes, always taken after a cache shard's (put and eviction link and unlink tags under the
// cache shard's lock); invalidation takes a tag shard's lock, lets it go, then takes cache
// shards' locks. No lock is ever held while a loader runs or a value is (de)compressed.
//
// Hits. A hit takes no lock and writes nothing another thread writes (hit_unlocked()): it finds
// the entry in an internal::ReadSection (reclaim.h: an entry a writer removes is retired, and
// freed only once no reader can hold it), checks its expiry, lets the policy count the hit on
// the entry alone (touch_unlocked(), whose counters are written only when they move), sets the
// entry's `read` flag if it is not set, counts the hit in the calling thread's stripe of
// counters, and copies the value's shared_ptr: for a value the thread hits again and again, an
// alias whose reference count is the thread's own (internal/hot_values.h), else the stored one,
// whose count every holder shares (on random keys, seldom at the same moment). What needs the
// lock (an expired entry to remove, a policy whose hits move lists: LRU) goes to hit_locked().
// The policy's shared state learns of the hits in batches: every 64th hit of a stripe adds 64 to
// the shard's unaged_hits, handed to record_hits() under the lock at the next put.
//
// Rewrites. rewrite_tags() keeps an entry by publishing a copy of it with the new value (and
// that value's fingerprint) and/or version in its slot, as a put replaces one: no field a hit
// reads changes under the hit's feet, and the old entry is retired like any removed one.
//
// Staleness. internal/freshness.h holds the protocol and its proof: every invalidation runs
// through internal::Freshness (which orders its steps), every put with a ticket is checked by it
// under the shard's lock, and each shard keeps the epochs of the erases of its keys (KeyEpochs).
//
// Budget. The memory limit is divided evenly among shards; each shard's policy evicts until its
// charge fits, so after every put the total is within the limit. An entry's charge estimates
// what it costs in memory: key, stored value, tags, and the bookkeeping of every structure that
// refers to it (measured against resident memory in cache_benchmark.cc).
#include "cache/cache.h"

#include <fnmatch.h>
#include <malloc.h>
#include <time.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <random>
#include <stdexcept>

#include "absl/container/flat_hash_map.h"
#include "cache/eviction_policy.h"
#include "cache/internal/entry_table.h"
#include "cache/internal/freshness.h"
#include "cache/internal/hot_values.h"
#include "cache/internal/reclaim.h"
#include "cache/internal/string_map.h"
#include "cache/tag_index.h"
#include "util/blocking.h"

namespace tajir::cache {
namespace {

constexpr int64_t kNever = INT64_MAX;
constexpr int kMaxJoins = 2;  // waits on others' stale loads before loading alone

uint64_t hash_key(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

// Relaxed counters: written by one thread at a time (under a lock) or by fetch_add, read by
// stats() at any time without a lock.
using Cell = std::atomic<uint64_t>;
void add_locked(Cell& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
void add_shared(Cell& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }

// The clock in ms modulo 2^32: four bytes in an entry, and ages up to 24.8 days come out right.
uint32_t ms_stamp(int64_t now_ns) { return static_cast<uint32_t>(now_ns / 1'000'000); }

double random_unit() {
  thread_local std::minstd_rand rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

// An entry and its key are one allocation: the key's bytes (and a NUL) follow the struct, so a
// lookup's key comparison touches no second cache line far away. An entry with a wall deadline
// or a version (or both) has it after them, from the next 8-byte boundary: the few that have one
// pay its bytes, the others a flag in a padding hole. The boundary matters: the version's aside
// is a pointer, and a leak checker (LSan) sees only the pointers that are aligned.
struct Cache::Entry : PolicyNode {
  static Entry* make(std::string_view k, int64_t wall_deadline_ms = 0,
                     std::optional<Version> version = std::nullopt) {
    const size_t trailer =
        (wall_deadline_ms != 0 ? sizeof(int64_t) : 0) + (version ? sizeof(VersionSlot) : 0);
    const size_t after = trailer != 0 ? trailer_offset(k.size()) + trailer : k.size() + 1;
    void* mem = ::operator new(sizeof(Entry) + after);
    Entry* e = new (mem) Entry();
    char* bytes = reinterpret_cast<char*>(e + 1);
    std::memcpy(bytes, k.data(), k.size());
    bytes[k.size()] = '\0';
    e->key_size = static_cast<uint32_t>(k.size());
    if (wall_deadline_ms != 0) {
      std::memcpy(bytes + trailer_offset(k.size()), &wall_deadline_ms, sizeof wall_deadline_ms);
      e->wall_bound = true;
    }
    if (version) {
      e->versioned = true;
      const VersionSlot slot{version->number, aside_of(version->aside)};
      std::memcpy(e->version_at(), &slot, sizeof slot);
    }
    return e;
  }
  static void destroy(Entry* e) {
    if (e->versioned) delete e->slot().aside;
    e->~Entry();
    ::operator delete(e);
  }
  static void destroy_retired(void* e) { destroy(static_cast<Entry*>(e)); }
  struct Deleter {
    void operator()(Entry* e) const { destroy(e); }
  };
  std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), key_size}; }
  const char* key_cstr() const { return reinterpret_cast<const char*>(this + 1); }
  // REQUIRES: wall_bound.
  int64_t wall_deadline_ms() const {
    int64_t ms;
    std::memcpy(&ms, key_cstr() + trailer_offset(key_size), sizeof ms);
    return ms;
  }
  // What follows the key (and the wall deadline) of a versioned entry: the version's number
  // and its aside, if not empty, on the heap (the entry owns it).
  struct VersionSlot {
    uint64_t number;
    std::string* aside;
  };
  static std::string* aside_of(std::string aside) {
    return aside.empty() ? nullptr : new std::string(std::move(aside));
  }
  // REQUIRES: versioned.
  VersionSlot slot() const {
    VersionSlot slot;
    std::memcpy(&slot, version_at(), sizeof slot);
    return slot;
  }
  std::optional<Version> version() const {
    if (!versioned) return std::nullopt;
    const VersionSlot v = slot();
    return Version{v.number, v.aside != nullptr ? *v.aside : std::string()};
  }
  size_t aside_size() const {
    const std::string* aside = versioned ? slot().aside : nullptr;
    return aside != nullptr ? aside->size() : 0;
  }
  char* version_at() const {
    return const_cast<char*>(key_cstr()) + trailer_offset(key_size) +
           (wall_bound ? sizeof(int64_t) : 0);
  }
  // Where the trailer starts, from the key's first byte: past its NUL, at an 8-byte boundary
  // (the struct's size is a multiple of 8, so the key starts on one).
  static constexpr size_t trailer_offset(size_t key_size) {
    return (key_size + 1 + 7) & ~size_t{7};
  }
  // REQUIRES: not yet published.
  void set_value(const Encoded& v) {
    stored = v.bytes;
    codec = v.codec;
    raw_size = v.raw_size;
    fingerprint = v.fingerprint;
  }

  // Hits read the entry without the shard's lock: every field but `read` (and the policy's and
  // the expiry wheel's links, which hits do not read) is set before the entry is published in
  // the table and never changes after, the version after the key included. A rewrite that
  // changes the value or the version publishes a new entry in the old one's place.
  uint32_t key_size = 0;
  uint32_t filled_ms = 0;  // ms_stamp() of the put, for its age at invalidation (a padding hole)
  Value stored;            // compressed when codec != kNone
  uint32_t raw_size = 0;
  Codec codec = Codec::kNone;
  TypeId type = 0;
  // A get hit it since the put: worth loading again after an invalidation. Set by hits (only if
  // not set yet), read under the lock.
  std::atomic<bool> read{false};
  // In one byte, the last of a padding hole (no room for two bools beside `read`).
  bool wall_bound : 1 = false;  // it has a wall deadline (after the key)
  bool versioned : 1 = false;   // it has a version (after the key and any deadline)
  int64_t expires_ns = kNever;
  uint64_t fingerprint = 0;  // XXH3-64 of the uncompressed value
  std::vector<std::string> tags;
  Entry* expiry_prev = nullptr;  // the expiry wheel's intrusive list (entries with a TTL)
  Entry* expiry_next = nullptr;
};

namespace {

constexpr uint64_t kExpiryOverhead = 0;  // the wheel's links live in the Entry itself
// A tag on an entry: the tag's string in the entry, the key's copy and slot in the tag's key set,
// and a share of the tag's own state (most tags in a POS cache tag a handful of keys).
// Calibrated against malloc's in-use bytes in bench/cache_rss.cc.
constexpr uint64_t kTagOverhead = 160;
// A version's aside: its bytes, and the string and malloc header that hold them.
uint64_t aside_charge(size_t bytes) { return bytes == 0 ? 0 : bytes + 32 + 16; }

}  // namespace

// ExpiryWheel: a hashed timing wheel of the entries that have a TTL. Bucket b holds, in an
// intrusive doubly-linked list, the entries whose expiry second is b modulo kBuckets, so adding
// and removing an entry is O(1) whatever the cache's size (a sorted index costs a log n walk
// through cold memory, which made invalidation slower in large caches). The reaper visits the
// buckets of the seconds that passed since its last run, removing what has expired and skipping
// entries of a later lap (TTLs longer than the wheel's span: they are looked at once a lap).
// The current second's bucket is visited again next time, since it may still fill.
class Cache::ExpiryWheel {
 public:
  static constexpr size_t kBuckets = 1024;
  static constexpr int64_t kTickNs = 1'000'000'000;

  void insert(Entry* e) {
    Entry*& head = heads_[bucket(e->expires_ns)];
    e->expiry_prev = nullptr;
    e->expiry_next = head;
    if (head != nullptr) head->expiry_prev = e;
    head = e;
  }
  void erase(Entry* e) {
    if (e->expiry_prev != nullptr) {
      e->expiry_prev->expiry_next = e->expiry_next;
    } else {
      heads_[bucket(e->expires_ns)] = e->expiry_next;
    }
    if (e->expiry_next != nullptr) e->expiry_next->expiry_prev = e->expiry_prev;
    e->expiry_prev = e->expiry_next = nullptr;
  }
  // The buckets to visit for `now`, and the cursor to keep afterwards.
  std::pair<int64_t, int64_t> ticks_due(int64_t now) const {
    const int64_t now_tick = now / kTickNs;
    int64_t from = cursor_ < 0 ? now_tick - static_cast<int64_t>(kBuckets) + 1 : cursor_;
    from = std::max(from, now_tick - static_cast<int64_t>(kBuckets) + 1);  // one lap at most
    return {from, now_tick};
  }
  Entry* head(int64_t tick) const { return heads_[static_cast<size_t>(tick) % kBuckets]; }
  void set_cursor(int64_t tick) { cursor_ = tick; }

 private:
  static size_t bucket(int64_t expires_ns) {
    return static_cast<size_t>(expires_ns / kTickNs) % kBuckets;
  }
  std::array<Entry*, kBuckets> heads_{};
  int64_t cursor_ = -1;
};

struct Cache::Flight {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;         // GUARDED_BY(mu)
  bool stale = false;        // GUARDED_BY(mu): the value's put was refused
  Status error;              // GUARDED_BY(mu)
  Value value;               // GUARDED_BY(mu)
  uint64_t fingerprint = 0;  // GUARDED_BY(mu): the value's
  Ticket ticket;             // GUARDED_BY(mu): taken before the load
  PutOptions options;        // GUARDED_BY(mu): what the value was stored with (its tags)
};

struct alignas(64) Cache::Shard {
  std::mutex mu;
  // Everything up to `policy`: GUARDED_BY(mu), except the counters (see add_locked / add_shared).
  ExpiryWheel expiry;
  internal::StringMap<std::shared_ptr<Flight>> flights;
  internal::KeyEpochs erased;
  internal::Retired retired;  // entries and table arrays removed, freed once no hit holds them
  size_t collect_at = 32;     // collect `retired` when it holds this many (retire_locked())

  std::array<std::array<Cell, kNumCounters>, kMaxTypes> counters{};
  std::array<Cell, kMaxTypes> keys{};
  std::array<Cell, kMaxTypes> bytes{};
  std::array<std::array<Cell, AgeHistogram::kBuckets>, kMaxTypes> invalidated_ages{};
  std::array<Cell, kMaxTypes> invalidated_age_sum_ms{};
  Cell compressed_values{0};
  Cell compression_raw{0};
  Cell compression_stored{0};

  // Read by every hit, on lines of their own that only a rehash writes: the policy (set at
  // construction) and the table (find() without mu, in a ReadSection; the rest GUARDED_BY(mu)).
  alignas(64) std::unique_ptr<EvictionPolicy> policy;
  bool lock_free_touch = false;  // policy->lock_free_touch()
  internal::EntryTable<Entry> entries{retired};

  // Hits counted in the stripes but not yet told to the policy (record_hits); 64 at a time.
  alignas(64) std::atomic<uint64_t> unaged_hits{0};

  Cell& counter(TypeId t, Counter c) { return counters[t][static_cast<size_t>(c)]; }

  Entry* find(std::string_view key, uint64_t hash) const { return entries.find(key, hash); }
};

// Hits and misses, counted per thread (a stripe per thread index, see internal::thread_index())
// rather than per shard: a hit writes no line another thread writes, as long as there are no
// more threads than stripes (and then they share one, still exactly: the increments are atomic).
struct alignas(64) Cache::Stripe {
  std::array<Cell, kMaxTypes> hits{};
  std::array<Cell, kMaxTypes> misses{};
};

Cache::Cache(Options options)
    : options_(std::move(options)),
      memory_limit_bytes_(options_.memory_limit_bytes),
      default_ttl_ms_(options_.default_ttl.count()) {
  size_t n = options_.shards;
  if (n == 0) n = 4 * std::max(1u, std::thread::hardware_concurrency());
  shard_count_ = std::bit_ceil(std::min<size_t>(n, 1u << 16));
  shards_.reset(new Shard[shard_count_]);
  for (size_t i = 0; i < shard_count_; ++i) {
    shards_[i].policy =
        make_eviction_policy(options_.policy, options_.memory_limit_bytes / shard_count_);
    if (!shards_[i].policy) {
      throw std::invalid_argument("unknown eviction policy: " + options_.policy);
    }
    shards_[i].lock_free_touch = shards_[i].policy->lock_free_touch();
  }
  stripe_count_ = std::bit_ceil(std::max<size_t>(8, 4 * std::thread::hardware_concurrency()));
  stripes_.reset(new Stripe[stripe_count_]);
  tags_ = std::make_unique<TagIndex>(shard_count_);
  freshness_ = std::make_unique<internal::Freshness>(*tags_, options_.ticket_horizon);
  type_names_.push_back("default");
  history_.resize(std::max<size_t>(options_.history_points, 1));
  if (options_.maintenance_interval.count() > 0) {
    maintenance_ = std::jthread([this](std::stop_token st) { maintenance_loop(st); });
  }
}

Cache::~Cache() {
  if (maintenance_.joinable()) {
    maintenance_.request_stop();
    maintenance_.join();
  }
  for (size_t i = 0; i < shard_count_; ++i) shards_[i].entries.for_each(Entry::destroy);
}

// Expiry runs on CLOCK_MONOTONIC_COARSE: a read of the vDSO page (about 4 ns here, against
// 25 ns to several hundred for CLOCK_MONOTONIC under kvm-clock), at the price of a 1-4 ms
// resolution. The coarse clock lags real time by less than one tick, so expiry_for() takes a
// tick off every TTL: an entry is never served after its TTL has run out in real time.
int64_t Cache::now_ns() const {
  if (options_.clock != nullptr) return options_.clock->now_ns();
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int64_t Cache::wall_now_ms() const {
  if (options_.wall_clock_ms) return options_.wall_clock_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The wall clock is read only for the entries that have a deadline, so it is the precise one
// (a vDSO read): no tick to take off, and the check stays exact.
bool Cache::past_wall_deadline(const Entry& e) const {
  return e.wall_bound && e.wall_deadline_ms() <= wall_now_ms();
}

namespace {
int64_t coarse_tick_ns() {
  static const int64_t tick = [] {
    timespec ts;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &ts) != 0) return int64_t{10'000'000};
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  }();
  return tick;
}
}  // namespace

Cache::Shard& Cache::shard_for(uint64_t hash) const {
  return shards_[(hash >> 40) & (shard_count_ - 1)];
}

TypeId Cache::register_type(std::string_view name) {
  std::lock_guard lock(types_mu_);
  for (size_t i = 0; i < type_names_.size(); ++i) {
    if (type_names_[i] == name) return static_cast<TypeId>(i);
  }
  if (type_names_.size() == kMaxTypes) return 0;
  type_names_.emplace_back(name);
  return static_cast<TypeId>(type_names_.size() - 1);
}

int64_t Cache::expiry_for(const PutOptions& options, int64_t now) const {
  auto ttl = options.ttl.value_or(default_ttl());
  if (ttl.count() <= 0) return kNever;
  double ns = static_cast<double>(std::chrono::nanoseconds(ttl).count());
  ns *= 1.0 - std::clamp(options_.ttl_jitter, 0.0, 1.0) * random_unit();
  const int64_t slack = options_.clock != nullptr ? 0 : coarse_tick_ns();
  return now + std::max<int64_t>(1, static_cast<int64_t>(ns) - slack);
}

uint64_t Cache::charge_of(std::string_view key, size_t stored_bytes,
                          const PutOptions& options) const {
  // Bytes of bookkeeping per entry beyond its key, value and tags: the Entry allocation and its
  // malloc header, the set slot at the table's load factor, the value's shared_ptr control
  // block and string, the value buffer's malloc header, and the eviction policy's share (its
  // frequency sketch and ghost records grow with the entries). Calibrated against malloc's
  // in-use bytes in bench/cache_rss.cc.
  constexpr uint64_t kPolicyOverhead = 64;
  static_assert(sizeof(Entry) == 128, "docs/CACHE.md gives the entry's size");
  constexpr uint64_t kEntryOverhead = sizeof(Entry) + 16 + 12 + 48 + 16 + kPolicyOverhead;
  uint64_t c = kEntryOverhead + key.size() + stored_bytes;
  if (options.ttl.value_or(default_ttl()).count() > 0) c += kExpiryOverhead;
  for (const auto& t : options.tags) c += kTagOverhead + t.size() + key.size();
  if (options.wall_deadline_ms != 0) c += sizeof(int64_t);
  if (options.version)
    c += sizeof(Entry::VersionSlot) + aside_charge(options.version->aside.size());
  return c;
}

void Cache::note_memory(int64_t delta) {
  int64_t now = memory_bytes_.fetch_add(delta, std::memory_order_relaxed) + delta;
  int64_t peak = peak_memory_bytes_.load(std::memory_order_relaxed);
  while (now > peak && !peak_memory_bytes_.compare_exchange_weak(peak, now)) {
  }
}

Ticket Cache::ticket() const { return freshness_->ticket(now_ns()); }

void Cache::remove_locked(Shard& s, Entry* e, std::optional<Counter> why,
                          const std::vector<std::string>* keep_tags) {
  s.policy->remove(e);
  unlink_locked(s, e, why, keep_tags);
}

void Cache::unlink_locked(Shard& s, Entry* e, std::optional<Counter> why,
                          const std::vector<std::string>* keep_tags, Entry* successor) {
  if (successor != nullptr) {
    s.entries.replace(e, successor);
  } else {
    s.entries.erase(e);
  }
  if (e->expires_ns != kNever) s.expiry.erase(e);
  for (const auto& t : e->tags) {
    if (keep_tags == nullptr ||
        std::find(keep_tags->begin(), keep_tags->end(), t) == keep_tags->end()) {
      tags_->unlink(t, e->key());
    }
  }
  if (why) add_locked(s.counter(e->type, *why));
  add_locked(s.keys[e->type], static_cast<uint64_t>(-1));
  add_locked(s.bytes[e->type], -e->charge);
  if (e->codec != Codec::kNone) {
    add_locked(s.compressed_values, static_cast<uint64_t>(-1));
    add_locked(s.compression_raw, -static_cast<uint64_t>(e->raw_size));
    add_locked(s.compression_stored, -static_cast<uint64_t>(e->stored->size()));
  }
  note_memory(-static_cast<int64_t>(e->charge));
  retire_locked(s, e);
}

// A hit may still hold the entry: it is freed once none can (internal::Retired). Waiting
// entries are collected every few dozen, or sooner when their charges add up to 1/32 of the
// shard's budget; a collection normally frees them all (a hit holds an entry for a lookup).
void Cache::retire_locked(Shard& s, Entry* e) {
  constexpr size_t kCollectEvery = 32;
  s.retired.retire(e, &Entry::destroy_retired, e->charge);
  if (s.retired.size() >= s.collect_at || s.retired.bytes() > s.policy->capacity() / 32) {
    s.retired.collect();
    s.collect_at = std::max(kCollectEvery, 2 * s.retired.size());
  }
}

void Cache::evict_locked(Shard& s) {
  while (s.policy->charge() > s.policy->capacity()) {
    PolicyNode* victim = s.policy->evict();
    if (victim == nullptr) break;
    unlink_locked(s, static_cast<Entry*>(victim), Counter::evictions);
  }
}

// The new entry is tracked by the policy and the wheel before a hit can find it; it takes the
// old one's slot in one store, so that a hit finds one or the other; the old one is retired.
void Cache::install_locked(Shard& s, Entry* old, Entry* p) {
  if (old != nullptr) s.policy->remove(old);
  fold_hits_locked(s);
  s.policy->insert(p);
  if (p->expires_ns != kNever) s.expiry.insert(p);
  if (old != nullptr) {
    unlink_locked(s, old, std::nullopt, &p->tags, /*successor=*/p);
  } else {
    s.entries.insert(p);
  }
  add_locked(s.keys[p->type]);
  add_locked(s.bytes[p->type], p->charge);
  if (p->codec != Codec::kNone) {
    add_locked(s.compressed_values);
    add_locked(s.compression_raw, p->raw_size);
    add_locked(s.compression_stored, p->stored->size());
  }
  note_memory(static_cast<int64_t>(p->charge));
}

void Cache::fold_hits_locked(Shard& s) {
  if (s.unaged_hits.load(std::memory_order_relaxed) != 0) {
    s.policy->record_hits(s.unaged_hits.exchange(0, std::memory_order_relaxed));
  }
}

inline bool Cache::expired(const Entry& e) const {
  return (e.expires_ns != kNever && e.expires_ns <= now_ns()) || past_wall_deadline(e);
}

inline Cache::Stripe& Cache::stripe() const {
  return stripes_[internal::thread_index() & (stripe_count_ - 1)];
}

void Cache::count_miss(TypeId type) { add_shared(stripe().misses[type < kMaxTypes ? type : 0]); }

// What both hit paths do to the entry they found, and what they copy out of it. REQUIRES:
// shard.mu held, or a ReadSection and a lock_free_touch() policy.
inline void Cache::note_hit(Shard& s, Entry* e, bool warmup, Lookup& out, Packed& packed) {
  if (!warmup) {
    if (s.lock_free_touch) {
      s.policy->touch_unlocked(e);
    } else {
      s.policy->touch(e);
    }
    if (!e->read.load(std::memory_order_relaxed)) e->read.store(true, std::memory_order_relaxed);
    const uint64_t n = stripe().hits[e->type].fetch_add(1, std::memory_order_relaxed);
    if (s.lock_free_touch && (n & 63) == 63) {
      s.unaged_hits.fetch_add(64, std::memory_order_relaxed);
    }
  }
  // A hot value's copy counts on the thread's own control block (internal/hot_values.h).
  out.value =
      e->codec == Codec::kNone ? internal::HotValues::mine().copy(e->stored, e->hash) : e->stored;
  out.hit = true;
  out.fingerprint = e->fingerprint;
  packed = {e->codec, e->raw_size};
}

// A compressed value, decompressed outside any lock or ReadSection; null if that failed.
void Cache::unpack(Lookup& out, Packed packed) {
  auto raw = decompress(packed.codec, *out.value, packed.raw_size);
  out.value = raw ? std::make_shared<const std::string>(std::move(*raw)) : nullptr;
}

Cache::Probe Cache::hit_unlocked(Shard& s, std::string_view key, uint64_t h, bool warmup,
                                 Lookup& out) {
  if (!s.lock_free_touch) return Probe::kLocked;
  Packed packed;
  {
    internal::ReadSection section;
    Entry* e = s.find(key, h);
    if (e == nullptr) return Probe::kAbsent;
    if (expired(*e)) return Probe::kLocked;
    note_hit(s, e, warmup, out, packed);
  }
  if (packed.codec != Codec::kNone) [[unlikely]]
    unpack(out, packed);
  return Probe::kHit;
}

bool Cache::hit_locked(std::unique_lock<std::mutex>& lock, Shard& s, std::string_view key,
                       uint64_t h, bool warmup, Lookup& out) {
  Entry* e = s.find(key, h);
  if (e == nullptr) return false;
  if (expired(*e)) {
    remove_locked(s, e, Counter::expirations);
    return false;
  }
  Packed packed;
  note_hit(s, e, warmup, out, packed);
  lock.unlock();
  if (packed.codec != Codec::kNone) unpack(out, packed);
  return true;
}

bool Cache::get_into(std::string_view key, TypeId type, Lookup& out) {
  const uint64_t h = hash_key(key);
  Shard& s = shard_for(h);
  Probe probe = hit_unlocked(s, key, h, /*warmup=*/false, out);
  if (probe == Probe::kLocked) {
    std::unique_lock lock(s.mu);
    probe = hit_locked(lock, s, key, h, /*warmup=*/false, out) ? Probe::kHit : Probe::kAbsent;
  }
  if (probe == Probe::kAbsent) {
    count_miss(type);
    return false;
  }
  return out.value != nullptr;  // null: failed to decompress
}

std::optional<Lookup> Cache::get_with_fingerprint(std::string_view key, TypeId type) {
  Lookup out;
  if (!get_into(key, type, out)) return std::nullopt;
  return out;
}

std::optional<Value> Cache::get(std::string_view key, TypeId type) {
  Lookup out;
  if (!get_into(key, type, out)) return std::nullopt;
  return std::move(out.value);
}

namespace {
Value to_value(std::string s) { return std::make_shared<const std::string>(std::move(s)); }
}  // namespace

uint64_t fingerprint_of(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

PutResult Cache::put(std::string_view key, std::string value, const PutOptions& options,
                     const Ticket* ticket) {
  const uint64_t fingerprint = fingerprint_of(value);
  return store(key, hash_key(key), to_value(std::move(value)), fingerprint, options, ticket);
}

Cache::Encoded Cache::encode(const Value& raw, uint64_t fingerprint) const {
  Encoded out{raw, Codec::kNone, static_cast<uint32_t>(raw->size()), fingerprint};
  const bool tight = static_cast<double>(memory_bytes_.load(std::memory_order_relaxed)) >=
                     options_.compress_above_fill *
                         static_cast<double>(memory_limit_bytes_.load(std::memory_order_relaxed));
  if (options_.codec != Codec::kNone && tight && raw->size() >= options_.compress_min_bytes &&
      raw->size() <= UINT32_MAX) {
    if (auto packed = compress(options_.codec, *raw)) {
      out.bytes = to_value(std::move(*packed));
      out.codec = options_.codec;
    }
  }
  return out;
}

PutResult Cache::store(std::string_view key, uint64_t h, const Value& raw, uint64_t fingerprint,
                       const PutOptions& options, const Ticket* ticket) {
  std::unique_ptr<Entry, Entry::Deleter> e(
      Entry::make(key, options.wall_deadline_ms, options.version));
  e->set_value(encode(raw, fingerprint));
  e->hash = h;
  e->type = options.type < kMaxTypes ? options.type : 0;
  e->tags = options.tags;
  e->charge = charge_of(key, e->stored->size(), options);
  int64_t now = now_ns();
  e->expires_ns = expiry_for(options, now);
  e->filled_ms = ms_stamp(now);
  const uint64_t epoch = ticket != nullptr ? ticket->epoch : UINT64_MAX;

  Shard& s = shard_for(h);
  std::lock_guard lock(s.mu);
  Entry* old = s.find(key, h);
  if (ticket != nullptr && freshness_->outdated(s.erased, h, *ticket, now)) {
    add_locked(s.counter(e->type, Counter::stale_puts));
    return PutResult::kStale;
  }
  if (e->charge > s.policy->capacity()) {
    if (old != nullptr) remove_locked(s, old, std::nullopt);  // outdated by this put
    add_locked(s.counter(e->type, Counter::rejected_puts));
    return PutResult::kTooLarge;
  }
  // Link the new tags (each checked against the ticket) before the old entry goes, so that a
  // refused put leaves the old entry, and the links it shares with the new one, as they were.
  if (!freshness_->link(e->tags, e->key(), epoch)) {
    add_locked(s.counter(e->type, Counter::stale_puts));
    return PutResult::kStale;
  }
  add_locked(s.counter(e->type, Counter::puts));
  install_locked(s, old, e.release());
  evict_locked(s);
  return PutResult::kStored;
}

Result<Lookup> Cache::get_or_load(std::string_view key, const Loader& loader,
                                  const PutOptions& options) {
  return get_or_fill(
      key,
      [&]() -> Result<Loaded> {
        auto r = loader();
        if (!r.ok()) return r.status();
        return Loaded{std::move(*r), {}, std::nullopt};
      },
      options);
}

Result<Lookup> Cache::get_or_fill(std::string_view key, const TaggedLoader& loader,
                                  const PutOptions& options) {
  return load_once(key, hash_key(key), loader, options, /*warmup=*/false, nullptr);
}

Result<Lookup> Cache::load_once(std::string_view key, uint64_t h, const TaggedLoader& loader,
                                const PutOptions& options, bool warmup, PutResult* put_result) {
  Shard& s = shard_for(h);
  const TypeId type = options.type < kMaxTypes ? options.type : 0;
  auto answer = [](Lookup&& hit) -> Result<Lookup> {
    if (hit.value == nullptr) {
      return Status(StatusCode::kInternal, "cache: a stored value failed to decompress");
    }
    return std::move(hit);
  };
  for (int attempt = 0;; ++attempt) {
    std::shared_ptr<Flight> flight;
    bool leader = false;
    if (attempt == 0) {
      Lookup hit;
      if (hit_unlocked(s, key, h, warmup, hit) == Probe::kHit) return answer(std::move(hit));
    }
    {
      std::unique_lock lock(s.mu);
      if (Lookup hit; hit_locked(lock, s, key, h, warmup, hit)) return answer(std::move(hit));
      util::blocking_point();  // before anything is counted: the request runs again elsewhere
      if (!warmup && attempt == 0) count_miss(type);
      if (attempt < kMaxJoins) {
        auto [it, inserted] = s.flights.try_emplace(std::string(key));
        if (inserted) it->second = std::make_shared<Flight>();
        flight = it->second;
        leader = inserted;
      } else {
        leader = true;  // others' loads kept going stale: load alone, uncoordinated
      }
    }

    if (!leader) {
      add_shared(s.counter(type, Counter::coalesced));
      std::unique_lock fl(flight->mu);
      flight->cv.wait(fl, [&] { return flight->done; });
      if (!flight->error.ok()) return flight->error;
      // The leader's value is good for us only if nothing it depends on was invalidated since
      // its load began: we may have joined after an invalidation that came after its put.
      if (!flight->stale && freshness_->still_fresh(s.mu, s.erased, h, flight->options.tags,
                                                    flight->ticket, now_ns())) {
        if (put_result != nullptr) *put_result = PutResult::kStored;  // by the caller we joined
        return Lookup{flight->value, false, flight->fingerprint};
      }
      continue;  // loaded across an invalidation: load again
    }

    const Ticket t = ticket();
    add_shared(s.counter(type, Counter::loads));
    Result<Loaded> loaded = Status(StatusCode::kInternal, "loader threw");
    try {
      loaded = loader();
    } catch (const std::exception& ex) {
      loaded = Status(StatusCode::kInternal, std::string("loader threw: ") + ex.what());
    } catch (...) {
    }
    Value value;
    uint64_t fingerprint = 0;
    PutResult pr = PutResult::kStale;
    PutOptions final_options = options;
    if (loaded.ok()) {
      fingerprint = fingerprint_of(loaded->value);
      value = to_value(std::move(loaded->value));
      final_options.tags.insert(final_options.tags.end(), loaded->tags.begin(), loaded->tags.end());
      if (loaded->ttl) final_options.ttl = loaded->ttl;
      if (loaded->wall_deadline_ms != 0) final_options.wall_deadline_ms = loaded->wall_deadline_ms;
      if (loaded->version) final_options.version = loaded->version;
      pr = store(key, h, value, fingerprint, final_options, &t);
      if (warmup && pr == PutResult::kStored) add_shared(s.counter(type, Counter::warmups));
    } else {
      add_shared(s.counter(type, Counter::load_errors));
    }
    if (put_result != nullptr) *put_result = pr;
    if (flight) {
      {
        std::lock_guard lock(s.mu);
        auto it = s.flights.find(key);
        if (it != s.flights.end() && it->second == flight) s.flights.erase(it);
      }
      {
        std::lock_guard fl(flight->mu);
        flight->done = true;
        flight->stale = loaded.ok() && pr == PutResult::kStale;
        flight->value = value;
        flight->fingerprint = fingerprint;
        flight->ticket = t;
        flight->options = std::move(final_options);
        if (!loaded.ok()) flight->error = loaded.status();
      }
      flight->cv.notify_all();
    }
    if (!loaded.ok()) return loaded.status();
    return Lookup{std::move(value), false, fingerprint};
  }
}

bool Cache::erase(std::string_view key) {
  uint64_t h = hash_key(key);
  Shard& s = shard_for(h);
  return freshness_->invalidate_key(s.mu, s.erased, h, [&] {
    return drop_locked(s, s.find(key, h), now_ns(), /*record_age=*/true);
  });
}

bool Cache::drop_locked(Shard& s, Entry* e, int64_t now, bool record_age) {
  if (e == nullptr) return false;
  bool live = e->expires_ns > now && !past_wall_deadline(*e);
  if (live && record_age) {
    // A put that read the clock after the invalidation did, and was linked before it, is 0 ms old.
    const int32_t age = static_cast<int32_t>(ms_stamp(now) - e->filled_ms);
    const uint64_t ms = age < 0 ? 0 : static_cast<uint64_t>(age);
    add_locked(s.invalidated_ages[e->type][AgeHistogram::bucket_of(ms)]);
    add_locked(s.invalidated_age_sum_ms[e->type], ms);
  }
  remove_locked(s, e, live ? Counter::invalidations : Counter::expirations);
  return live;
}

size_t Cache::erase_keys(const std::vector<std::string>& keys, bool record_age,
                         std::vector<DroppedKey>* dropped) {
  size_t removed = 0;
  const int64_t now = now_ns();
  for (const auto& k : keys) {
    uint64_t h = hash_key(k);
    Shard& s = shard_for(h);
    std::lock_guard lock(s.mu);
    Entry* e = s.find(k, h);
    if (e != nullptr && dropped != nullptr) {
      dropped->push_back({k, e->read.load(std::memory_order_relaxed)});
    }
    removed += drop_locked(s, e, now, record_age);
  }
  return removed;
}

size_t Cache::invalidate_tags(std::span<const std::string_view> tags, InvalidationCause cause,
                              std::vector<DroppedKey>* dropped) {
  size_t removed = 0;
  const int64_t now = now_ns();
  for (std::string_view tag : tags) {
    removed += freshness_->invalidate_tag(tag, now, [&](const std::vector<std::string>& keys) {
      return erase_keys(keys, cause == InvalidationCause::kWrite, dropped);
    });
  }
  return removed;
}

// A rewriting invalidation runs the steps of internal::Freshness::invalidate_tag() itself,
// because a kept entry is linked to the tag again (Freshness Claim 4) with the take's number.
size_t Cache::rewrite_tags(std::span<const std::string_view> tags, const Rewriter& rewrite,
                           std::vector<DroppedKey>* dropped) {
  size_t removed = 0;
  for (std::string_view tag : tags) {
    internal::Freshness::Hold hold = freshness_->begin();
    const TagIndex::Invalidation inv = freshness_->take(hold, tag, now_ns());
    for (const std::string& key : inv.keys) {
      removed += rewrite_key(key, tag, inv.seq, rewrite, dropped);
    }
    freshness_->finish(tag, inv);
  }
  return removed;
}

// Three steps, so that the rewrite (a parse and a serialisation, perhaps a decompression) holds
// no lock: what the entry holds, read under the shard's lock; the decision, without it; then,
// under the lock again, the decision carried out if the entry still holds what was decided on
// (its stored bytes are the same object, which the decision holds a reference to, and its
// version is the same), or the entry dropped.
bool Cache::rewrite_key(const std::string& key, std::string_view tag, uint64_t seq,
                        const Rewriter& rewrite, std::vector<DroppedKey>* dropped) {
  const uint64_t h = hash_key(key);
  Shard& s = shard_for(h);
  Value seen;
  Codec codec = Codec::kNone;
  uint32_t raw_size = 0;
  std::optional<Version> version;
  {
    std::lock_guard lock(s.mu);
    const Entry* e = s.find(key, h);
    if (e == nullptr) return false;
    seen = e->stored;
    codec = e->codec;
    raw_size = e->raw_size;
    version = e->version();
  }
  Rewrite r;  // drops, unless `rewrite` says otherwise
  std::optional<std::string> unpacked;
  if (codec != Codec::kNone) unpacked = decompress(codec, *seen, raw_size);
  if (codec == Codec::kNone || unpacked) {
    try {  // after the write's commit, so never on an event loop: no util::WouldBlock here
      r = rewrite(key, unpacked ? *unpacked : *seen, version);
    } catch (...) {
      r = Rewrite{};
    }
  }
  std::optional<Encoded> fresh;
  if (r.keep && r.value && r.value->size() > UINT32_MAX) r.keep = false;  // raw_size's range
  if (r.keep && r.value) {
    // Its own fingerprint, or the ETag of the kept entry would be that of the old bytes.
    const uint64_t fingerprint = fingerprint_of(*r.value);
    fresh = encode(to_value(std::move(*r.value)), fingerprint);
  }
  const int64_t now = now_ns();
  std::lock_guard lock(s.mu);
  Entry* e = s.find(key, h);
  if (e == nullptr) return false;
  const bool kept = r.keep && e->stored == seen && e->version() == version &&
                    (!r.version || e->versioned) && freshness_->relink(tag, key, seq);
  if (!kept) {
    if (dropped != nullptr) dropped->push_back({key, e->read.load(std::memory_order_relaxed)});
    return drop_locked(s, e, now, /*record_age=*/true);
  }
  add_locked(s.counter(e->type, Counter::rewrites));
  if (fresh || r.version) {
    rewrite_locked(s, e, std::move(fresh), std::move(r.version), now);
    evict_locked(s);  // a larger value may take the shard over its budget
  }
  return false;
}

// Hits read an entry without the lock, so a published entry never changes: its successor is a
// copy of it with the new value and/or version, swapped in by install_locked(); the old one is
// retired (a hit may still hold it). The successor is tracked by the policy as a new entry, as
// a put's would be.
void Cache::rewrite_locked(Shard& s, Entry* old, std::optional<Encoded> value,
                           std::optional<Version> version, int64_t now) {
  std::unique_ptr<Entry, Entry::Deleter> e(
      Entry::make(old->key(), old->wall_bound ? old->wall_deadline_ms() : 0,
                  version ? std::move(version) : old->version()));
  if (value) {
    e->set_value(*value);
    e->filled_ms = ms_stamp(now);  // the value is new: its age starts again
  } else {
    e->set_value({old->stored, old->codec, old->raw_size, old->fingerprint});
    e->filled_ms = old->filled_ms;
  }
  e->hash = old->hash;
  e->type = old->type;
  e->tags = old->tags;
  e->expires_ns = old->expires_ns;
  e->read.store(old->read.load(std::memory_order_relaxed), std::memory_order_relaxed);
  // The charge is linear in the stored size and the aside's (charge_of); the rest is the same.
  e->charge = old->charge - old->stored->size() - aside_charge(old->aside_size()) +
              e->stored->size() + aside_charge(e->aside_size());
  install_locked(s, old, e.release());
}

size_t Cache::drop_matching(const char* pattern, bool record_age) {
  const int64_t now = now_ns();
  size_t removed = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    std::lock_guard lock(s.mu);
    std::vector<Entry*> doomed;
    doomed.reserve(pattern == nullptr ? s.entries.size() : 0);
    s.entries.for_each([&](Entry* e) {
      if (pattern == nullptr || fnmatch(pattern, e->key_cstr(), 0) == 0) doomed.push_back(e);
    });
    for (Entry* e : doomed) removed += drop_locked(s, e, now, record_age);
  }
  return removed;
}

size_t Cache::invalidate_matching(std::string_view pattern) {
  const std::string pat(pattern);
  return freshness_->invalidate_all(
      [&] { return drop_matching(pat.c_str(), /*record_age=*/true); });
}

size_t Cache::clear() {
  return freshness_->invalidate_all([&] { return drop_matching(nullptr, /*record_age=*/false); });
}

WarmReport Cache::warm(std::vector<WarmItem> items, size_t parallelism) {
  const auto start = std::chrono::steady_clock::now();
  std::atomic<size_t> next{0}, loaded{0}, present{0}, failed{0};
  auto work = [&] {
    for (size_t i = next++; i < items.size(); i = next++) {
      const WarmItem& item = items[i];
      PutResult pr = PutResult::kStale;
      auto r = load_once(item.key, hash_key(item.key), item.loader, item.options,
                         /*warmup=*/true, &pr);
      if (!r.ok()) {
        ++failed;
      } else if (r->hit) {
        ++present;
      } else if (pr == PutResult::kStored) {
        ++loaded;
      } else {
        ++failed;
      }
    }
  };
  parallelism = std::clamp<size_t>(parallelism, 1, std::max<size_t>(items.size(), 1));
  {
    std::vector<std::jthread> helpers;
    for (size_t i = 1; i < parallelism; ++i) helpers.emplace_back(work);
    work();
  }
  return WarmReport{loaded, present, failed,
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)};
}

size_t Cache::run_maintenance() {
  size_t reclaimed = 0;
  const int64_t now = now_ns();
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    int64_t from = 0, to = 0;
    {
      std::lock_guard lock(s.mu);
      std::tie(from, to) = s.expiry.ticks_due(now);
    }
    // One bucket per lock hold, so that gets wait little.
    for (int64_t tick = from; tick <= to; ++tick) {
      std::lock_guard lock(s.mu);
      for (Entry* e = s.expiry.head(tick); e != nullptr;) {
        Entry* next = e->expiry_next;
        if (e->expires_ns <= now) {
          remove_locked(s, e, Counter::expirations);
          ++reclaimed;
        }
        e = next;
      }
    }
    std::lock_guard lock(s.mu);
    s.expiry.set_cursor(to);
    s.retired.collect();
  }
  freshness_->collect_garbage(now);
  return reclaimed;
}

void Cache::set_memory_limit(uint64_t bytes) {
  memory_limit_bytes_.store(bytes, std::memory_order_relaxed);
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    std::lock_guard lock(s.mu);
    s.policy->set_capacity(bytes / shard_count_);
    evict_locked(s);
  }
}

Stats Cache::stats() const {
  Stats out;
  std::vector<std::string> names;
  {
    std::lock_guard lock(types_mu_);
    names = type_names_;
  }
  std::vector<TypeStats> per_type(names.size());
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    for (size_t t = 0; t < names.size(); ++t) {
      TypeStats& ts = per_type[t];
#define TAJIR_X(name, json, prom, help) \
  ts.name += s.counters[t][static_cast<size_t>(Counter::name)].load(std::memory_order_relaxed);
      TAJIR_CACHE_COUNTERS(TAJIR_X)
#undef TAJIR_X
      ts.keys += s.keys[t].load(std::memory_order_relaxed);
      ts.memory_bytes += s.bytes[t].load(std::memory_order_relaxed);
      for (size_t b = 0; b < AgeHistogram::kBuckets; ++b) {
        ts.invalidated_age.buckets[b] += s.invalidated_ages[t][b].load(std::memory_order_relaxed);
      }
      ts.invalidated_age.sum_ms += s.invalidated_age_sum_ms[t].load(std::memory_order_relaxed);
    }
    out.compressed_values += s.compressed_values.load(std::memory_order_relaxed);
    out.compression_raw_bytes += s.compression_raw.load(std::memory_order_relaxed);
    out.compression_stored_bytes += s.compression_stored.load(std::memory_order_relaxed);
    std::lock_guard lock(s.mu);
    out.ghost_hits += s.policy->counters().ghost_hits;
  }
  for (size_t i = 0; i < stripe_count_; ++i) {
    for (size_t t = 0; t < names.size(); ++t) {
      per_type[t].hits += stripes_[i].hits[t].load(std::memory_order_relaxed);
      per_type[t].misses += stripes_[i].misses[t].load(std::memory_order_relaxed);
    }
  }
  for (size_t t = 0; t < names.size(); ++t) {
    TypeStats& ts = out.total;
    const TypeStats& x = per_type[t];
#define TAJIR_X(name, json, prom, help) ts.name += x.name;
    TAJIR_CACHE_COUNTERS(TAJIR_X)
    TAJIR_CACHE_GAUGES(TAJIR_X)
#undef TAJIR_X
    ts.invalidated_age += x.invalidated_age;
    out.by_type.emplace_back(names[t], x);
  }
  out.peak_memory_bytes = static_cast<uint64_t>(
      std::max<int64_t>(0, peak_memory_bytes_.load(std::memory_order_relaxed)));
  out.memory_limit_bytes = memory_limit_bytes_.load(std::memory_order_relaxed);
  out.tags = tags_->size();
  out.policy = std::string(shards_[0].policy->name());
  out.shards = shard_count_;
  return out;
}

std::vector<std::pair<std::string, TagUsage>> Cache::usage_by_tag(std::string_view prefix) const {
  absl::flat_hash_map<std::string, TagUsage> by_tag;
  const int64_t now = now_ns();
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    std::lock_guard lock(s.mu);
    s.entries.for_each([&](const Entry* e) {
      if (e->expires_ns <= now) return;
      for (const std::string& t : e->tags) {
        if (!t.starts_with(prefix)) continue;
        TagUsage& u = by_tag[t];
        ++u.keys[e->type];
        u.memory_bytes[e->type] += e->charge;
      }
    });
  }
  std::vector<std::pair<std::string, TagUsage>> out(by_tag.begin(), by_tag.end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::vector<ReadKey> Cache::read_keys(size_t max,
                                      const std::function<bool(std::string_view)>& keep) const {
  const auto older = [](const ReadKey& a, const ReadKey& b) { return a.age_ms > b.age_ms; };
  std::vector<ReadKey> heap;  // the `max` oldest so far, the youngest of them on top
  if (max == 0) return heap;
  const int64_t now = now_ns();
  const uint32_t stamp = ms_stamp(now);
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    std::lock_guard lock(s.mu);
    s.entries.for_each([&](const Entry* e) {
      if (!e->read || e->expires_ns <= now) return;
      const int64_t age = static_cast<uint32_t>(stamp - e->filled_ms);
      if (heap.size() == max && age <= heap.front().age_ms) return;
      if (keep && !keep(e->key())) return;
      heap.push_back({std::string(e->key()), age});
      std::push_heap(heap.begin(), heap.end(), older);
      if (heap.size() > max) {
        std::pop_heap(heap.begin(), heap.end(), older);
        heap.pop_back();
      }
    });
  }
  std::sort_heap(heap.begin(), heap.end(), older);
  return heap;
}

void Cache::record_history_point() {
  Stats st = stats();
  std::lock_guard lock(history_mu_);
  HistoryPoint p;
  p.at = std::chrono::system_clock::now();
  p.hits = st.total.hits - history_last_hits_;
  p.misses = st.total.misses - history_last_misses_;
  p.keys = st.total.keys;
  p.memory_bytes = st.total.memory_bytes;
  history_last_hits_ = st.total.hits;
  history_last_misses_ = st.total.misses;
  history_[history_next_ % history_.size()] = p;
  ++history_next_;
}

std::vector<HistoryPoint> Cache::history(size_t max_points) const {
  std::lock_guard lock(history_mu_);
  size_t n = std::min({max_points, history_next_, history_.size()});
  std::vector<HistoryPoint> out;
  out.reserve(n);
  for (size_t i = history_next_ - n; i < history_next_; ++i) {
    out.push_back(history_[i % history_.size()]);
  }
  return out;
}

void Cache::maintenance_loop(std::stop_token stop) {
  auto next_point = std::chrono::steady_clock::now() + options_.history_interval;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(maintenance_mu_);
      maintenance_cv_.wait_for(lock, stop, options_.maintenance_interval, [] { return false; });
    }
    if (stop.stop_requested()) break;
    run_maintenance();
#ifdef __GLIBC__
    // Evicted and expired values leave holes in the middle of malloc's heap that it never
    // hands back by itself; returning their pages keeps resident memory near the budget.
    malloc_trim(0);
#endif
    if (std::chrono::steady_clock::now() >= next_point) {
      record_history_point();
      next_point += options_.history_interval;
    }
  }
}

}  // namespace tajir::cache
