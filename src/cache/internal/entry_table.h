// EntryTable: a cache shard's set of entries, which a hit searches without taking a lock.
//
// Open addressing with linear probing over a power-of-two array of atomic words: 0 is an empty
// slot, 1 a tombstone (an erased entry's slot, which probes go past), anything else an entry's
// address with the top 16 bits of its hash in the word's top 16 bits (user-space addresses fit
// in 48 bits), so that a probe reads an entry only when those agree. The index is the hash's
// low bits, the shard the cache picked by bits 40 and up; the entry's own hash is the stored
// one, so a rehash never rehashes a key.
//
// Writers hold the owner's lock. Readers hold a ReadSection (reclaim.h) instead: erase() leaves a
// tombstone and the owner retires the entry; a rehash copies the live entries into a new array,
// publishes it and retires the old one, which no writer touches again. So whatever a reader
// reached stays allocated until it leaves its section. Each slot is read whole, before or after
// a write; replace() swaps an entry for another of the same key in one store, so a reader finds
// the old or the new one and never neither. Every array keeps at least a quarter of its slots
// empty, so a probe ends (entries and tombstones fill at most 3/4 of it; about as much memory as
// absl's tables, 8 bytes a slot instead of 9, at a lower load).
//
// Thread safety: find() from any thread in a ReadSection, or under the owner's lock; the other
// methods under the owner's lock.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string_view>

#include "cache/internal/reclaim.h"

namespace tajir::cache::internal {

template <typename E>  // E has `uint64_t hash` and `std::string_view key() const`
class EntryTable {
 public:
  explicit EntryTable(Retired& retired) : retired_(retired), array_(Array::make(kMinSlots)) {}
  ~EntryTable() { Array::destroy(array_.load(std::memory_order_relaxed)); }
  EntryTable(const EntryTable&) = delete;
  EntryTable& operator=(const EntryTable&) = delete;

  E* find(std::string_view key, uint64_t hash) const {
    const Array* a = array_.load(std::memory_order_seq_cst);
    const uint64_t tag = hash & kTagMask;
    for (size_t i = hash & a->mask;; i = (i + 1) & a->mask) {
      const uint64_t w = a->slots()[i].load(std::memory_order_seq_cst);
      if (w == kEmpty) return nullptr;
      if ((w & kTagMask) == tag && w != kTombstone) {
        E* e = reinterpret_cast<E*>(w & ~kTagMask);
        if (e->hash == hash && e->key() == key) return e;
      }
    }
  }

  // REQUIRES: no entry with e's key is in the table.
  void insert(E* e) {
    if ((used_ + 1) * 4 > capacity() * 3) rehash(size_ + 1);
    Array* a = array_.load(std::memory_order_relaxed);
    size_t i = e->hash & a->mask;
    for (;; i = (i + 1) & a->mask) {
      const uint64_t w = a->slots()[i].load(std::memory_order_relaxed);
      if (w == kEmpty) {
        ++used_;
        break;
      }
      if (w == kTombstone) break;  // reused: still counted in used_
    }
    a->slots()[i].store(word_of(e), std::memory_order_seq_cst);
    ++size_;
  }

  // REQUIRES: old is in the table; now has its key and is not.
  void replace(E* old, E* now) {
    std::atomic<uint64_t>& slot = slot_of(old);
    slot.store(word_of(now), std::memory_order_seq_cst);
  }

  // REQUIRES: e is in the table.
  void erase(E* e) {
    Array* a = array_.load(std::memory_order_relaxed);
    std::atomic<uint64_t>& slot = slot_of(e);
    const size_t i = static_cast<size_t>(&slot - a->slots());
    // A slot followed by an empty one ends every probe that reaches it, so it may become empty
    // itself: a probe that would have gone on to the next slot would have stopped there.
    if (a->slots()[(i + 1) & a->mask].load(std::memory_order_relaxed) == kEmpty) {
      slot.store(kEmpty, std::memory_order_seq_cst);
      --used_;
    } else {
      slot.store(kTombstone, std::memory_order_seq_cst);
    }
    --size_;
  }

  size_t size() const { return size_; }

  // Calls f(E*) for every entry. REQUIRES: f does not change the table.
  template <typename F>
  void for_each(F&& f) const {
    const Array* a = array_.load(std::memory_order_relaxed);
    for (size_t i = 0; i <= a->mask; ++i) {
      const uint64_t w = a->slots()[i].load(std::memory_order_relaxed);
      if (w != kEmpty && w != kTombstone) f(reinterpret_cast<E*>(w & ~kTagMask));
    }
  }

 private:
  static constexpr uint64_t kEmpty = 0;
  static constexpr uint64_t kTombstone = 1;
  static constexpr uint64_t kTagMask = 0xffffULL << 48;
  static constexpr size_t kMinSlots = 16;

  // The mask and the slots in one allocation, so that a reader's one load of the array pointer
  // gives both.
  struct Array {
    size_t mask;
    std::atomic<uint64_t>* slots() { return reinterpret_cast<std::atomic<uint64_t>*>(this + 1); }
    const std::atomic<uint64_t>* slots() const {
      return reinterpret_cast<const std::atomic<uint64_t>*>(this + 1);
    }
    static Array* make(size_t n) {
      void* mem = ::operator new(sizeof(Array) + n * sizeof(std::atomic<uint64_t>));
      Array* a = new (mem) Array{n - 1};
      for (size_t i = 0; i < n; ++i) new (&a->slots()[i]) std::atomic<uint64_t>(kEmpty);
      return a;
    }
    static void destroy(void* a) { ::operator delete(a); }
  };

  static uint64_t word_of(const E* e) {
    const uint64_t p = reinterpret_cast<uint64_t>(e);
    if ((p & kTagMask) != 0 || p == kTombstone) std::abort();  // not a user-space address
    return p | (e->hash & kTagMask);
  }

  size_t capacity() const { return array_.load(std::memory_order_relaxed)->mask + 1; }

  std::atomic<uint64_t>& slot_of(const E* e) {
    Array* a = array_.load(std::memory_order_relaxed);
    const uint64_t w = word_of(e);
    for (size_t i = e->hash & a->mask;; i = (i + 1) & a->mask) {
      if (a->slots()[i].load(std::memory_order_relaxed) == w) return a->slots()[i];
    }
  }

  // A new array without tombstones, at most 5/8 full with `live` entries (so the same size when
  // tombstones made the old one full, twice the size when entries did); the old one retires.
  void rehash(size_t live) {
    Array* old = array_.load(std::memory_order_relaxed);
    Array* a = Array::make(std::max(kMinSlots, std::bit_ceil((live * 8 + 4) / 5)));
    for (size_t i = 0; i <= old->mask; ++i) {
      const uint64_t w = old->slots()[i].load(std::memory_order_relaxed);
      if (w == kEmpty || w == kTombstone) continue;
      const E* e = reinterpret_cast<const E*>(w & ~kTagMask);
      size_t j = e->hash & a->mask;
      while (a->slots()[j].load(std::memory_order_relaxed) != kEmpty) j = (j + 1) & a->mask;
      a->slots()[j].store(w, std::memory_order_relaxed);
    }
    array_.store(a, std::memory_order_seq_cst);
    retired_.retire(old, &Array::destroy, (old->mask + 1) * sizeof(uint64_t));
    used_ = size_;
  }

  Retired& retired_;
  std::atomic<Array*> array_;
  size_t size_ = 0;  // live entries
  size_t used_ = 0;  // live entries and tombstones
};

}  // namespace tajir::cache::internal
