// Epoch-based reclamation: readers follow pointers without a lock, writers (under locks of their
// own) unlink objects and free them once no reader can still hold one.
//
// A reader brackets its lock-free reads with a ReadSection. Entering it copies the global epoch
// into the thread's slot (a cache line no other thread writes); leaving it clears the slot. A
// writer first unlinks an object (a seq_cst store), then retires it into a Retired list, tagged
// with the global epoch it reads right after. Retired::collect() advances the global epoch and
// frees every object whose tag is below the oldest epoch a reader is in. (These epochs have
// nothing to do with internal/freshness.h's, which order invalidations.)
//
// Why a freed object is never in a reader's hands. Every operation named here is seq_cst, so
// they all take place in one total order S. Say a reader R reached object p, tagged o. R's
// load of the link to p came before the unlink U in S (it saw p), and R's load of the epoch
// came before that, so R entered with an epoch v <= o (the epoch only grows). p is freed only
// by a collect() that saw R's slot empty or above o. Empty: R had left (its clearing store, a
// release, happens-before the free) or not yet entered, and then R's entry, and so its loads,
// come after the collect's load of its slot in S, hence after U: it cannot see p. Above o: R
// read an epoch newer than the tag, so R's load of the epoch came after the writer's load of
// the tag in S, hence after U. An object also reachable through a retired container (a table's
// old array, after a rehash) is retired later than the container, so a reader still in the
// container holds the object back as well.
//
// A ReadSection costs a thread-local store and a load of the global epoch; collect() reads
// every thread's slot. Sections nest. Objects wait in their Retired list until a collect()
// finds no reader that entered before they were retired (a section lasts a lookup; the owner
// calls collect() every few dozen retirements and from its maintenance thread).
//
// Thread safety: ReadSection and thread_index() from any thread. A Retired list is guarded by
// its owner's lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tajir::cache::internal {

namespace reclaim_detail {

struct alignas(64) ReaderSlot {
  std::atomic<uint64_t> epoch{0};  // 0: not in a section; else the epoch it entered in
  std::atomic<bool> taken{false};  // owned by a live thread
  ReaderSlot* next = nullptr;      // the registry, a list that only grows
  uint32_t index = 0;              // dense: the n-th slot created
};

struct ThreadState {
  ReaderSlot* slot = nullptr;
  uint32_t depth = 0;
};

extern std::atomic<uint64_t> g_epoch;  // starts at 1
inline constinit thread_local ThreadState t_state{};
ReaderSlot* acquire_slot();  // registers the calling thread; releases its slot at thread exit

inline ReaderSlot& my_slot() {
  ThreadState& t = t_state;
  if (t.slot == nullptr) [[unlikely]]
    t.slot = acquire_slot();
  return *t.slot;
}

}  // namespace reclaim_detail

// While a ReadSection lives, nothing retired after it began is freed.
class ReadSection {
 public:
  ReadSection() noexcept {
    reclaim_detail::ThreadState& t = reclaim_detail::t_state;
    if (t.depth++ == 0) {
      reclaim_detail::my_slot().epoch.store(reclaim_detail::g_epoch.load(std::memory_order_seq_cst),
                                            std::memory_order_seq_cst);
    }
  }
  ~ReadSection() {
    reclaim_detail::ThreadState& t = reclaim_detail::t_state;
    if (--t.depth == 0) t.slot->epoch.store(0, std::memory_order_release);
  }
  ReadSection(const ReadSection&) = delete;
  ReadSection& operator=(const ReadSection&) = delete;
};

// A small index of the calling thread, dense among the threads alive (a thread that exits hands
// its index to the next new one): for striping per-thread counters.
inline uint32_t thread_index() { return reclaim_detail::my_slot().index; }

// Objects unlinked by one owner, waiting until no reader can hold them.
class Retired {
 public:
  using Free = void (*)(void*);
  Retired() = default;
  Retired(const Retired&) = delete;
  Retired& operator=(const Retired&) = delete;
  // Frees everything still waiting. REQUIRES: no reader can reach any of it any more.
  ~Retired();

  // REQUIRES: p is unlinked (a reader that starts now cannot reach it), by a seq_cst store.
  // `bytes`: what it holds, as the owner counts (see bytes()).
  void retire(void* p, Free free, uint64_t bytes);
  // Frees what no reader can hold any more. Returns how many objects still wait.
  size_t collect();
  size_t size() const { return items_.size(); }
  uint64_t bytes() const { return bytes_; }  // of those waiting

 private:
  struct Item {
    void* p;
    Free free;
    uint64_t epoch;
    uint64_t bytes;
  };
  std::vector<Item> items_;
  uint64_t bytes_ = 0;
};

}  // namespace tajir::cache::internal
