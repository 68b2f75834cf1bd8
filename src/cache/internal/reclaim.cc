#include "cache/internal/reclaim.h"

#include <algorithm>
#include <limits>

namespace tajir::cache::internal {
namespace reclaim_detail {

std::atomic<uint64_t> g_epoch{1};

namespace {

std::atomic<ReaderSlot*> g_slots{nullptr};
std::atomic<uint32_t> g_slot_count{0};

// Hands the thread's slot back when the thread exits.
struct Releaser {
  ReaderSlot* slot = nullptr;
  ~Releaser() {
    if (slot == nullptr) return;
    t_state.slot = nullptr;
    slot->taken.store(false, std::memory_order_release);
  }
};
thread_local Releaser t_releaser;

}  // namespace

ReaderSlot* acquire_slot() {
  ReaderSlot* slot = nullptr;
  for (ReaderSlot* s = g_slots.load(std::memory_order_seq_cst); s != nullptr; s = s->next) {
    bool expected = false;
    if (!s->taken.load(std::memory_order_relaxed) &&
        s->taken.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      slot = s;
      break;
    }
  }
  if (slot == nullptr) {
    slot = new ReaderSlot();  // never freed: the registry only grows, to the most threads alive
    slot->taken.store(true, std::memory_order_relaxed);
    slot->index = g_slot_count.fetch_add(1, std::memory_order_relaxed);
    ReaderSlot* head = g_slots.load(std::memory_order_seq_cst);
    do {
      slot->next = head;
    } while (!g_slots.compare_exchange_weak(head, slot, std::memory_order_seq_cst));
  }
  t_releaser.slot = slot;
  return slot;
}

namespace {

// The oldest epoch a reader is in, after advancing the epoch (so that readers entering from now
// on are newer than everything retired so far); UINT64_MAX when no reader is in a section.
uint64_t oldest_reader() {
  g_epoch.fetch_add(1, std::memory_order_seq_cst);
  uint64_t oldest = std::numeric_limits<uint64_t>::max();
  for (ReaderSlot* s = g_slots.load(std::memory_order_seq_cst); s != nullptr; s = s->next) {
    const uint64_t e = s->epoch.load(std::memory_order_seq_cst);
    if (e != 0) oldest = std::min(oldest, e);
  }
  return oldest;
}

}  // namespace
}  // namespace reclaim_detail

Retired::~Retired() {
  for (const Item& i : items_) i.free(i.p);
}

void Retired::retire(void* p, Free free, uint64_t bytes) {
  items_.push_back({p, free, reclaim_detail::g_epoch.load(std::memory_order_seq_cst), bytes});
  bytes_ += bytes;
}

size_t Retired::collect() {
  if (items_.empty()) return 0;
  const uint64_t oldest = reclaim_detail::oldest_reader();
  size_t kept = 0;
  for (const Item& i : items_) {
    if (i.epoch < oldest) {
      bytes_ -= i.bytes;
      i.free(i.p);
    } else {
      items_[kept++] = i;
    }
  }
  items_.resize(kept);
  return kept;
}

}  // namespace tajir::cache::internal
