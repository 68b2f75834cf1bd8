// Freshness: epochs and tickets, the protocol by which no fill undoes an invalidation.
//
// A fill reads the database (or other entries of the cache) and then stores what it read. An
// invalidation removes what a write changed. Between a fill's read and its put any number of
// invalidations may run, so the put has to know whether one of them concerned what it read.
// The protocol answers that with one counter, the epoch, and three kinds of record:
//
//   - every invalidation draws a new epoch e (strictly greater than any drawn before) and holds
//     it until it has removed its entries;
//   - it records e where a put of what it concerns will look: a tag invalidation raises the
//     tag's version to at least e (TagIndex, under the tag's lock, as it takes the tag's key
//     set); erase(key) raises the slot of the key's hash in its cache shard (KeyEpochs, under
//     the shard's lock, as it drops the entry); clear() and invalidate_matching() raise the
//     epoch that concerns every key, before they scan the shards;
//   - a fill takes a ticket before it reads: the watermark, the newest epoch below every held
//     one (the newest drawn when none is held). Its put is refused when any record that
//     concerns it is newer than the ticket, or when the ticket is older than the horizon.
//
// Claim 1: a fill F whose ticket t was taken before an invalidation I began leaves nothing in the
// cache once I has returned. F's ticket is at most the newest epoch drawn when it was taken, so
// t < e. For a tag: F's put links its key to the tag under the tag's lock, and I raises the version
// and takes the key set under that same lock. If the link came first, F's key is in the set I takes
// and erases (or in the set an earlier invalidation of the tag took; TagIndex::finish makes I wait
// until that one has erased it). If the take came first, the version is at least e > t and the link
// is refused. Records only grow: two invalidations of one tag may reach the index out of epoch
// order, and a late, older one must not lower the version the newer one set. The first version of
// the engine stored the version as it came; with its tickets (the newest epoch drawn), a fill whose
// ticket fell between the two epochs, read before the newer write, was linked after the newer
// invalidation had taken the key set, and outlived it. (The watermark below no longer issues such a
// ticket before the older invalidation has ended; the claim does not rest on that.) For a key: the
// same, with the shard's lock and the key's slot. For clear() and a pattern: the epoch for every
// key is raised before I locks any shard; F's put, under the shard's lock, comes either before I's
// scan of that shard (and the scan removes it) or after, and then sees the raised epoch. A coarse
// record (a slot shared by the keys of a hash, the one epoch of every clear) may refuse a fill that
// was fresh, never accept one that was not.
//
// Claim 2: a fill whose ticket is t reads no entry that an invalidation with an epoch at most t was
// still to remove. That is what the watermark is for. An epoch is held from the moment it is drawn
// until its invalidation's entries are gone; t is below every held epoch, so each invalidation at
// or below t has finished, and by claim 1 nothing it concerned and that was read before it can have
// come back since. An invalidation above t may still be at work while the fill reads; it refuses
// the fill's put if it concerns the fill, which for what the fill read from other entries holds
// when the fill carries their tags (as the API's pages carry their items' tags), and always for a
// clear or a pattern, whose epoch concerns every key. It matters for fills built from other entries
// (the API builds a page of products from the products' own entries): with the newest epoch drawn
// as the ticket, a fill could take t >= e while I had raised a product's tag version but not yet
// erased the product's entry, read that old entry, and store a page linked to the tag after I had
// taken its key set; I then erased the product, and the page showed the old one until its TTL
// (tajir-loadgen found these). Below every held epoch, not merely the newest one that ended: a
// later invalidation that ended first says nothing of an earlier one still at work.
//
// Claim 3: a waiter of a single-flight load may take the leader's value only if still_fresh():
// no record that concerns the key or the value's tags is newer than the leader's ticket. A
// waiter that joined after an invalidation returned would otherwise take a value read before
// it (the leader's put may have come first, and been removed by it).
//
// Claim 4: an invalidation I of tag T that keeps an entry K instead of erasing it (a rewrite:
// the caller brought K's value up to date with I's write) leaves the guarantees above as they
// are. Fills are refused as before: take() raised T's version. K is linked to T again only if
// no invalidation of T has taken T's keys since I's take (TagIndex::relink, under T's lock, in
// the order of the takes): a later invalidation J either took its keys after the relink, and
// finds K (and erases or rewrites it in turn), or took them before, and then the relink is
// refused and K is dropped by I, before I's finish() and so before J's finish() returns. The
// relink and the decision are made under K's shard lock, on the value and version the caller
// saw (otherwise K is dropped), so nothing that replaced K in between is kept unseen.
//
// Horizon: a ticket older than the horizon is refused, so a tag's version need be kept only
// about that long: TagIndex forgets a tag with no keys and no invalidation in progress once its
// last invalidation is older than two horizons. Two, because the version is aged from the
// invalidation's start while a ticket may be taken as late as the invalidation's end and then
// used for one more horizon: the version outlives every ticket that needs it as long as an
// invalidation finishes erasing within one horizon (minutes; it takes microseconds to
// milliseconds).
//
// Thread safety: thread-safe. The epochs have a mutex of their own, taken alone; KeyEpochs is
// guarded by the mutex of the cache shard that holds it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache.h"
#include "cache/tag_index.h"

namespace tajir::cache::internal {

// The epochs of the erase() calls of one cache shard's keys, in 64 slots by the key's hash.
// Guarded by the shard's mutex, which also guards the entries the erases drop.
class KeyEpochs {
 public:
  void record(uint64_t hash, uint64_t epoch) {
    uint64_t& slot = slots_[hash % kSlots];
    if (epoch > slot) slot = epoch;
  }
  uint64_t of(uint64_t hash) const { return slots_[hash % kSlots]; }

 private:
  static constexpr size_t kSlots = 64;
  std::array<uint64_t, kSlots> slots_{};
};

// The protocol above. The cache owns one, over its TagIndex, and runs every invalidation and
// checks every put with a ticket through it.
class Freshness {
 public:
  // `tags` outlives this.
  Freshness(TagIndex& tags, std::chrono::nanoseconds horizon);

  // --- fills ---

  // A ticket for a load about to start: the watermark, and `now_ns`.
  Ticket ticket(int64_t now_ns) const;

  // Whether an erase of the key (its slot in `erased`), a clear or a pattern since the ticket, or
  // the horizon, refuses it. REQUIRES: the mutex guarding `erased` held.
  bool outdated(const KeyEpochs& erased, uint64_t hash, const Ticket& t, int64_t now_ns) const;

  // Links `key` to each of `tags`, checked against `epoch` (UINT64_MAX: unconditionally). When a
  // tag was invalidated after it, undoes the links this call made (links the key already had
  // stay) and returns false. REQUIRES: the key's cache shard locked (lock order: TagIndex).
  bool link(std::span<const std::string> tags, std::string_view key, uint64_t epoch);

  // Whether a value loaded under `t` is still current: nothing outdated its key (checked under
  // `shard_mu`, which guards `erased`) and no tag was invalidated after it. Claim 3.
  bool still_fresh(std::mutex& shard_mu, const KeyEpochs& erased, uint64_t hash,
                   std::span<const std::string> tags, const Ticket& t, int64_t now_ns) const;

  // --- invalidations ---

  // An epoch held by an invalidation in progress, from begin() until destroyed.
  class [[nodiscard]] Hold {
   public:
    Hold(Hold&& other) noexcept : owner_(other.owner_), epoch_(other.epoch_) {
      other.owner_ = nullptr;
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    Hold& operator=(Hold&&) = delete;
    ~Hold() {
      if (owner_ != nullptr) owner_->end(epoch_);
    }
    uint64_t epoch() const { return epoch_; }

   private:
    friend class Freshness;
    Hold(Freshness* owner, uint64_t epoch) : owner_(owner), epoch_(epoch) {}
    Freshness* owner_;
    uint64_t epoch_;
  };
  // Draws a new epoch and holds it.
  Hold begin();

  // The steps of a tag invalidation, in this order: take() raises the tag's version to the
  // hold's epoch and hands over its keys; the caller erases them; finish() waits for earlier
  // invalidations of the tag to have erased theirs; then the hold ends. invalidate_tag() runs
  // them all.
  TagIndex::Invalidation take(const Hold& hold, std::string_view tag, int64_t now_ns);
  void finish(std::string_view tag, const TagIndex::Invalidation& inv);
  // Between take() and finish(): puts back the link of a key `inv` took, for an entry the
  // invalidation keeps (Cache::rewrite_tags), unless another invalidation of the tag has taken
  // its keys since (Claim 4). REQUIRES: the key's cache shard locked (lock order: TagIndex).
  bool relink(std::string_view tag, std::string_view key, uint64_t seq);
  // `erase(keys)` erases the keys the tag carried and returns how many were live.
  template <typename Erase>
  size_t invalidate_tag(std::string_view tag, int64_t now_ns, Erase&& erase) {
    Hold hold = begin();
    TagIndex::Invalidation inv = take(hold, tag, now_ns);
    const size_t removed = erase(inv.keys);
    finish(tag, inv);
    return removed;
  }

  // erase(key): `drop()` removes the entry; it runs under `shard_mu` right after the key's slot
  // recorded the epoch, and its result is returned.
  template <typename Drop>
  auto invalidate_key(std::mutex& shard_mu, KeyEpochs& erased, uint64_t hash, Drop&& drop) {
    Hold hold = begin();
    std::lock_guard lock(shard_mu);
    erased.record(hash, hold.epoch());
    return drop();
  }

  // clear() and invalidate_matching(): the hold's epoch concerns every key (outdate_all())
  // before `remove()` (which locks each shard in turn) runs; its result is returned.
  void outdate_all(const Hold& hold);
  template <typename Remove>
  auto invalidate_all(Remove&& remove) {
    Hold hold = begin();
    outdate_all(hold);
    return remove();
  }

  // Forgets the versions of tags no ticket younger than the horizon can need. Returns how many.
  size_t collect_garbage(int64_t now_ns);

 private:
  void end(uint64_t epoch);

  TagIndex& tags_;
  const int64_t horizon_ns_;
  mutable std::mutex mu_;
  uint64_t epoch_ = 1;                  // GUARDED_BY(mu_): the newest epoch drawn
  std::set<uint64_t> held_;             // GUARDED_BY(mu_): epochs of invalidations still removing
  std::atomic<uint64_t> all_epoch_{0};  // the newest clear() or invalidate_matching()
};

}  // namespace tajir::cache::internal
