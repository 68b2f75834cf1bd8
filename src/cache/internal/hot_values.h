// Copies of hot values whose reference counts are the calling thread's own.
//
// A hit hands out a std::shared_ptr to the stored bytes: copying it increments the count in its
// control block and dropping the copy decrements it, two atomic writes to a line that every
// thread holding the value writes. Hits on one hot key from two threads then pass that line from
// core to core on every hit: they got 0.87x of one thread's hits/s where a bare map's finds got
// 1.86x (BM_CacheGetHitHot). So each thread keeps, in a small table (a set of two slots per few
// bits of the key's hash), an alias of a value it handed out twice in a row from one set:
// a shared_ptr to the same bytes whose control block is its own (it owns one reference to the
// value, taken once), and hands out copies of that instead. Other threads' copies do not share
// the line; a copy dropped on another thread is still counted right (the counts are atomic).
// Hits on random keys of a large cache seldom hit one key twice in a row and pay a compare.
//
// The alias is used only while the entry found by the hit holds those very bytes: the alias
// keeps them alive, so no other value can be at their address. A value that a write replaced or
// removed is never handed out again; it is freed when its slot takes another value or the
// thread exits, so each thread keeps at most 2 x kSets values of at most kMaxBytes alive beyond
// the cache (1 MiB), outside its budget.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tajir::cache::internal {

class HotValues {
 public:
  static constexpr size_t kSets = 32;             // of two aliases each
  static constexpr size_t kMaxBytes = 16 * 1024;  // larger values cost more than their count

  // A copy of `stored` (a hit's value; `hash` its key's): the thread's alias when it has one.
  std::shared_ptr<const std::string> copy(const std::shared_ptr<const std::string>& stored,
                                          uint64_t hash) {
    Set& set = sets_[(hash >> 24) & (kSets - 1)];
    const std::string* bytes = stored.get();
    for (uint8_t way = 0; way < 2; ++way) {
      if (set.alias[way].get() == bytes) {
        set.victim = way ^ 1;
        return set.alias[way];
      }
    }
    if (set.seen != bytes || bytes->size() > kMaxBytes) {
      set.seen = bytes;  // only compared, never read: it may be gone by now
      return stored;
    }
    using Owner = std::shared_ptr<const std::string>;
    std::shared_ptr<const std::string>& alias = set.alias[set.victim];
    alias = std::shared_ptr<const std::string>(std::make_shared<const Owner>(stored), bytes);
    set.victim ^= 1;
    return alias;
  }

  // The calling thread's.
  static HotValues& mine() {
    thread_local HotValues values;
    return values;
  }

 private:
  // Two ways, so that two hot keys whose hashes pick one set do not take turns evicting each
  // other's alias (a new alias replaces the one hit less recently).
  struct Set {
    std::shared_ptr<const std::string> alias[2];  // the thread's own counts on two values
    const std::string* seen = nullptr;  // the last value of this set handed out without one
    uint8_t victim = 0;                 // the way a new alias takes
  };
  std::array<Set, kSets> sets_;
};

}  // namespace tajir::cache::internal
