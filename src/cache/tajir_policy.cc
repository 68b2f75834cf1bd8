// tajir: the engine's default eviction policy, an adaptive W-TinyLFU built from CLOCKs.
//
// The shape is W-TinyLFU (Einziger, Friedman, Manes): new entries land in a small *window*; an
// entry pushed out of the window is a *candidate* for the *main* region and is admitted only if
// a frequency sketch says it has been requested more often than main's next victim. Otherwise
// the candidate itself is evicted. The sketch remembers keys long after they left the cache, so
// one-hit wonders and scans never displace the established working set, while a key that keeps
// coming back eventually wins its duel.
//
// Two changes make it fit tajir:
//
// 1. A cheap hit path. touch() writes only the node: a saturating access counter (`freq`, read
//    by the CLOCKs) and a pending popularity count (`aux`, read by the admission duel); no list
//    is reordered and the sketch is not written. The window is a CLOCK with one chance (a node
//    touched since it was last looked at is rotated back instead of leaving: LRU-like), main is
//    a CLOCK with a counter up to kMaxFreq (each pass decrements, a node at 0 is the victim:
//    LFU-like with ageing, as in S3-FIFO's main queue). The sketch learns a node's hits when
//    it leaves (its pending count is added then); while resident, its frequency is sketch +
//    pending. So list pointers move only on evictions, never on hits. That makes the node's
//    part of a hit (touch_unlocked()) safe without the shard's lock: the engine's hits run it
//    with relaxed atomics, writing a counter only when it moves, and hand their number to
//    record_hits() (the sketch's ageing) in batches, under the lock.
//
// 2. The window adapts, ARC-style, from two ghosts. Fixed windows lose somewhere: 1% is best
//    on Zipf, scans and loops but loses up to 87% to LRU on the ORM trace and on drifting
//    popularity, where recency is what matters; 99% (about CLOCK) is never much worse than LRU
//    but forgoes the frequency gains. So we keep two FIFOs of recently evicted hashes, each
//    bounded to half the capacity in charge: one for entries that left from the window
//    (rejected candidates), one for main's victims. A miss on a key in the window ghost means
//    a larger window would have hit; a miss in the main ghost, a larger main. Because both
//    ghosts span the same extra capacity, their hit rates are comparable, and each such miss
//    moves the window's share of the capacity by kGhostGain * charge / capacity toward the
//    side that would have hit, within [0, kMaxWindow]. Adaptation is per event: it follows a
//    phase change within a fraction of a cache turnover, which a hill climber on sampled hit
//    rates (Caffeine's) does not on short traces. Every step costs something: growing the
//    window evicts main's victims without a duel, shrinking it lets candidates into main
//    without one. On Zipf the ghost hits nearly balance and the window random-walks along
//    its floor, and that churn alone cost 4% of misses against a window pinned at 1%. So the
//    step shrinks in proportion as the smaller region drops below kGainReference (5%), to a
//    fifth at 1%: near the floor it is quiet, and a phase change still climbs geometrically.
//    Larger steps in the middle (fully proportional steps) feed themselves: the churn fills
//    the main ghost, and on a short drifting trace the window then hovers at 35% instead of
//    99% (1.04x LRU); hence the cap at the fixed gain.
//
// The sketch has 32 counters per entry (count-min, 4 rows). A candidate back from the main
// ghost wins a tie in the duel: main dropped it recently and it returned within the ghost's
// span, which is evidence the sketch's equal counts do not show.
//
// Sizes: all targets are in charge (bytes in the engine, 1 per object in the simulator); a
// duel compares one candidate with one victim whatever their charges, and the cache keeps
// calling evict() until it is under budget.
//
// Invariants:
//   - every tracked node is in exactly one of window_ and main_, with queue = kWindow/kMain
//     (a window node may carry kFromMainGhost);
//     untracked nodes have queue = kNone; charge() = window_.charge() + main_.charge().
//   - evict() returns nullptr only if nothing is tracked, and returns a node it no longer tracks
//     (possibly the one just inserted, rejected by the duel).
//   - memory is bounded: the sketch has 32 four-bit counters per tracked entry (high-water
//     mark), each ghost at most that many hashes; nothing allocates on a hit, and on insert
//     or evict only when the high-water mark grows (amortised doubling).
//
// Tuning: the constants below keep every row of bench/policy_miss_ratios.sh within 1.02x of
// LRU's misses (worst 1.019x) at a mean 10.3% below LRU. The variants tried on the way (fixed
// windows, Caffeine's hill climber, one shared ghost, sketch and gain variants) and what each
// scored are in docs/BENCHMARKS.md, "Variants tried".
#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "cache/internal/node_list.h"
#include "cache/internal/policies.h"

namespace tajir::cache::internal {
namespace {

constexpr uint8_t kMaxFreq = 7;             // main's CLOCK counter saturates here
constexpr uint32_t kMaxPending = 15;        // like the sketch's counters
constexpr double kInitialWindow = 0.01;     // share of capacity, as in Caffeine
constexpr double kMaxWindow = 0.99;         // main keeps at least 1%
constexpr double kGhostGain = 2.0;          // window moves per ghost hit, in units of its charge,
constexpr double kGainReference = 0.05;     //   while both regions hold at least this share;
constexpr double kMinGainShare = 0.01;      //   less near an end, down to a fifth
constexpr double kGhostShare = 0.5;         // each ghost spans this share of the capacity
constexpr uint64_t kCountersPerEntry = 32;  // sketch size: 16 bytes per tracked entry
constexpr uint64_t kSampleFactor = 40;      // the sketch halves after this many accesses per entry
constexpr uint32_t kHashDosThreshold = 6;

// Count-min sketch of 4-bit counters, 16 per 64-bit word, four rows. Every `sample_` recorded
// accesses all counters halve, so popularity ages (TinyLFU's reset).
class FrequencySketch {
 public:
  // Sizes the sketch for `entries` tracked nodes; grows (and forgets) only when needed.
  void ensure(uint64_t entries) {
    uint64_t words = 64;
    while (words * 16 < entries * kCountersPerEntry) words <<= 1;
    if (words <= table_.size()) return;
    table_.assign(words, 0);
    mask_ = words * 16 - 1;
    sample_ = words * 16 / kCountersPerEntry * kSampleFactor;
    additions_ = 0;
  }

  uint32_t estimate(uint64_t hash) const {
    uint32_t m = 15;
    for (int i = 0; i < 4; ++i) {
      const uint64_t idx = index(hash, i);
      m = std::min<uint32_t>(m, (table_[idx >> 4] >> ((idx & 15) * 4)) & 15);
    }
    return m;
  }

  // Adds n to the key's counters without counting toward ageing (see record()).
  void add(uint64_t hash, uint32_t n) {
    for (int i = 0; i < 4; ++i) {
      const uint64_t idx = index(hash, i);
      uint64_t& w = table_[idx >> 4];
      const int shift = static_cast<int>(idx & 15) * 4;
      const uint64_t c = std::min<uint64_t>(15, ((w >> shift) & 15) + n);
      w = (w & ~(15ULL << shift)) | (c << shift);
    }
  }

  // Counts n accesses toward ageing; returns true when the sketch has just halved.
  bool record(uint64_t n) {
    additions_ += n;
    if (additions_ < sample_) return false;
    for (uint64_t& w : table_) w = (w >> 1) & 0x7777777777777777ULL;
    additions_ /= 2;
    return true;
  }

 private:
  uint64_t index(uint64_t hash, int i) const {
    static constexpr uint64_t kSeeds[4] = {0x97cb3127ab3d5a5bULL, 0xc3a5c85c97cb3127ULL,
                                           0xb492b66fbe98f273ULL, 0x9ae16a3b2f90404fULL};
    const uint64_t h = (hash ^ (hash >> 29)) * kSeeds[i];
    return (h >> 20) & mask_;
  }

  std::vector<uint64_t> table_;
  uint64_t mask_ = 0;
  uint64_t sample_ = 0;
  uint64_t additions_ = 0;
};

// A FIFO of recently evicted hashes, bounded in charge (the extra capacity it stands for) and
// in count. A ring of (hash, charge, sequence) plus a map hash -> sequence: an entry whose key
// was seen again (erased) or evicted again later leaves the ring without disturbing the map.
class Ghost {
 public:
  // True (and forgets the hash) if it is in the ghost.
  bool take(uint64_t hash) { return map_.erase(hash) > 0; }

  void push(uint64_t hash, uint64_t charge, uint64_t max_charge, uint64_t max_count) {
    if (max_count > ring_.size()) grow(max_count);
    while (size_ > 0 && (size_ == ring_.size() || charge_ + charge > max_charge)) pop();
    if (charge > max_charge) return;
    ring_[(head_ + size_) % ring_.size()] = {hash, charge, seq_};
    ++size_;
    charge_ += charge;
    map_[hash] = seq_++;
  }

 private:
  struct Slot {
    uint64_t hash;
    uint64_t charge;
    uint64_t seq;
  };

  void pop() {
    const Slot& s = ring_[head_];
    auto it = map_.find(s.hash);
    if (it != map_.end() && it->second == s.seq) map_.erase(it);
    charge_ -= s.charge;
    head_ = (head_ + 1) % ring_.size();
    --size_;
  }

  void grow(uint64_t count) {
    std::vector<Slot> ring(count);
    for (uint64_t i = 0; i < size_; ++i) ring[i] = ring_[(head_ + i) % ring_.size()];
    ring_.swap(ring);
    head_ = 0;
    map_.reserve(count);
  }

  std::vector<Slot> ring_;
  uint64_t head_ = 0;
  uint64_t size_ = 0;
  uint64_t charge_ = 0;
  uint64_t seq_ = 0;
  absl::flat_hash_map<uint64_t, uint64_t> map_;
};

// A node's counters, which touch_unlocked() updates while the lock's holder may also be at them.
uint8_t freq(const PolicyNode* n) {
  return std::atomic_ref(const_cast<PolicyNode*>(n)->freq).load(std::memory_order_relaxed);
}
void set_freq(PolicyNode* n, uint8_t f) {
  std::atomic_ref(n->freq).store(f, std::memory_order_relaxed);
}
uint32_t aux(const PolicyNode* n) {
  return std::atomic_ref(const_cast<PolicyNode*>(n)->aux).load(std::memory_order_relaxed);
}
void set_aux(PolicyNode* n, uint32_t a) {
  std::atomic_ref(n->aux).store(a, std::memory_order_relaxed);
}

enum Queue : uint8_t { kNone = 0, kWindow = 1, kMain = 2 };
// Flag on a window node whose key was in the main ghost when it came back; cleared in main.
constexpr uint8_t kFromMainGhost = 4;

class TajirPolicy final : public EvictionPolicy {
 public:
  explicit TajirPolicy(uint64_t capacity) : capacity_(capacity) {
    // Object capacities are small numbers: size for them at once. Byte capacities say nothing
    // about the entry count; the structures then grow with the high-water mark.
    grow(std::min<uint64_t>(capacity, 4096));
  }

  std::string_view name() const override { return "tajir"; }

  void insert(PolicyNode* n) override {
    if (++count_ > max_count_) grow(count_);
    const bool window_ghost = window_ghost_.take(n->hash);
    const bool main_ghost = !window_ghost && main_ghost_.take(n->hash);
    if (window_ghost || main_ghost) {
      ++counters_.ghost_hits;
      counters_.ghost_charge += n->charge;
      const double smaller = std::min(window_share_, 1.0 - window_share_);
      const double scale = std::min(1.0, std::max(smaller, kMinGainShare) / kGainReference);
      const double step = kGhostGain * scale * static_cast<double>(n->charge) /
                          static_cast<double>(std::max<uint64_t>(capacity_, 1));
      window_share_ = std::clamp(window_share_ + (window_ghost ? step : -step), 0.0, kMaxWindow);
    }
    sketch_.add(n->hash, 1);
    record_hits(1);
    set_freq(n, 0);
    set_aux(n, (epoch() & 0xffff) << 16);
    n->queue = main_ghost ? kWindow | kFromMainGhost : kWindow;
    window_.push_newest(n);
  }

  void touch(PolicyNode* n) override {
    touch_unlocked(n);
    record_hits(1);
  }

  // Hits write the node only when its counters move: once a hot node's are saturated (and the
  // sketch has not aged since), its hits write nothing.
  bool lock_free_touch() const override { return true; }
  void touch_unlocked(PolicyNode* n) override {
    const uint8_t f = freq(n);
    if (f < kMaxFreq) set_freq(n, static_cast<uint8_t>(f + 1));
    const uint32_t was = aux(n);
    uint32_t now = aged(was);
    if ((now & 0xffff) < kMaxPending) ++now;
    if (now != was) set_aux(n, now);
  }
  void record_hits(uint64_t hits) override {
    if (sketch_.record(hits)) epoch_.store(epoch() + 1, std::memory_order_relaxed);
  }

  void remove(PolicyNode* n) override {
    --count_;
    queue_of(n).unlink(n);
    n->queue = kNone;
  }

  PolicyNode* evict() override {
    const uint64_t window_target =
        static_cast<uint64_t>(window_share_ * static_cast<double>(capacity_));
    const uint64_t main_target = capacity_ - std::min(capacity_, window_target);
    // Whatever the window holds beyond its share becomes a candidate for main: it moves in
    // while main has room, and otherwise duels main's victim.
    while (window_.charge() > window_target) {
      PolicyNode* candidate = window_victim();
      window_.unlink(candidate);
      if (main_.empty() || main_.charge() + candidate->charge <= main_target) {
        candidate->queue = kMain;
        main_.push_newest(candidate);
        continue;
      }
      PolicyNode* victim = main_victim();
      if (!admit(candidate, victim)) return retire(candidate, window_ghost_);
      main_.unlink(victim);
      candidate->queue = kMain;
      main_.push_newest(candidate);
      return retire(victim, main_ghost_);
    }
    if (!main_.empty()) {
      PolicyNode* victim = main_victim();
      main_.unlink(victim);
      return retire(victim, main_ghost_);
    }
    if (!window_.empty()) {
      PolicyNode* victim = window_victim();
      window_.unlink(victim);
      return retire(victim, window_ghost_);
    }
    return nullptr;
  }

  uint64_t charge() const override { return window_.charge() + main_.charge(); }
  uint64_t capacity() const override { return capacity_; }
  void set_capacity(uint64_t capacity) override { capacity_ = capacity; }
  PolicyCounters counters() const override { return counters_; }

 private:
  NodeList& queue_of(const PolicyNode* n) {
    return (n->queue & ~kFromMainGhost) == kWindow ? window_ : main_;
  }

  void grow(uint64_t entries) {
    max_count_ = std::max(max_count_, entries);
    sketch_.ensure(entries);
  }

  // aux = epoch (16 bits) << 16 | hits since the node was inserted, halved once per sketch
  // reset since `epoch` so that pending counts age with the sketch.
  uint32_t aged(uint32_t aux) const {
    const uint32_t now = epoch() & 0xffff;
    const uint32_t then = aux >> 16;
    if (then == now) return aux;
    const uint32_t resets = (now - then) & 0xffff;
    return (now << 16) | (resets >= 16 ? 0 : (aux & 0xffff) >> resets);
  }

  uint32_t frequency(const PolicyNode* n) const {
    return std::min<uint32_t>(15, sketch_.estimate(n->hash) + (aged(aux(n)) & 0xffff));
  }

  // TinyLFU's duel. A tie keeps the incumbent unless the candidate is back from the main ghost
  // (main evicted it recently, and it returned within the ghost's span); a popular candidate
  // that keeps losing gets in now and then, so an attacker cannot pin main by inflating its
  // victims' counters.
  bool admit(const PolicyNode* candidate, const PolicyNode* victim) {
    const uint32_t c = frequency(candidate);
    const uint32_t v = frequency(victim);
    if (c > v) return true;
    if (c == v && (candidate->queue & kFromMainGhost)) return true;
    if (c < kHashDosThreshold) return false;
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return (rng_ & 127) == 0;
  }

  // CLOCK with one chance over the window. REQUIRES: !window_.empty().
  PolicyNode* window_victim() {
    for (;;) {
      PolicyNode* n = window_.oldest();
      if (freq(n) == 0 || window_.size() == 1) return n;
      set_freq(n, 0);
      window_.move_to_newest(n);
    }
  }

  // CLOCK with counters over main: at most kMaxFreq passes. REQUIRES: !main_.empty().
  PolicyNode* main_victim() {
    for (;;) {
      PolicyNode* n = main_.oldest();
      const uint8_t f = freq(n);
      if (f == 0 || main_.size() == 1) return n;
      set_freq(n, static_cast<uint8_t>(f - 1));
      main_.move_to_newest(n);
    }
  }

  // Bookkeeping for a node that has just been unlinked as a victim.
  PolicyNode* retire(PolicyNode* n, Ghost& ghost) {
    --count_;
    const uint32_t pending = aged(aux(n)) & 0xffff;
    if (pending > 0) sketch_.add(n->hash, pending);
    const uint64_t ghost_charge =
        static_cast<uint64_t>(kGhostShare * static_cast<double>(capacity_));
    ghost.push(n->hash, n->charge, ghost_charge, max_count_);
    n->queue = kNone;
    return n;
  }

  NodeList window_;
  NodeList main_;
  uint64_t capacity_;
  double window_share_ = kInitialWindow;  // the window's target, as a share of capacity_
  uint64_t count_ = 0;                    // tracked nodes
  uint64_t max_count_ = 0;                // their high-water mark: sizes sketch and ghosts
  FrequencySketch sketch_;
  // Sketch resets so far: written under the lock, read by touch_unlocked().
  std::atomic<uint64_t> epoch_{0};
  uint64_t epoch() const { return epoch_.load(std::memory_order_relaxed); }
  Ghost window_ghost_;
  Ghost main_ghost_;
  PolicyCounters counters_;
  uint64_t rng_ = 0x2545f4914f6cdd1dULL;
};

}  // namespace

std::unique_ptr<EvictionPolicy> make_tajir_policy(uint64_t capacity) {
  return std::make_unique<TajirPolicy>(capacity);
}

}  // namespace tajir::cache::internal
