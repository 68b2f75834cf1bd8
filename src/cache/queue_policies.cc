// LRU and FIFO: the baselines the default policy is measured against.
//
// LRU keeps one list ordered by last access: a hit moves the node to the newest end, and the
// victim is the oldest. It adapts instantly to recency but one scan of one-hit wonders flushes
// the whole cache. FIFO is LRU without the move on a hit: insertion order only, the cheapest
// possible hit path. Both are exact: one list, O(1) everything.
#include "cache/internal/node_list.h"
#include "cache/internal/policies.h"

namespace tajir::cache::internal {
namespace {

template <bool kMoveOnHit>
class QueuePolicy final : public EvictionPolicy {
 public:
  explicit QueuePolicy(uint64_t capacity) : capacity_(capacity) {}

  std::string_view name() const override { return kMoveOnHit ? "lru" : "fifo"; }
  void insert(PolicyNode* node) override { list_.push_newest(node); }
  void touch(PolicyNode* node) override {
    if constexpr (kMoveOnHit)
      list_.move_to_newest(node);
    else
      (void)node;
  }
  // LRU's hit moves the node in the list: it needs the lock. FIFO's does nothing.
  bool lock_free_touch() const override { return !kMoveOnHit; }
  void remove(PolicyNode* node) override { list_.unlink(node); }
  PolicyNode* evict() override { return list_.pop_oldest(); }
  uint64_t charge() const override { return list_.charge(); }
  uint64_t capacity() const override { return capacity_; }
  void set_capacity(uint64_t capacity) override { capacity_ = capacity; }

 private:
  NodeList list_;
  uint64_t capacity_;
};

}  // namespace

std::unique_ptr<EvictionPolicy> make_lru_policy(uint64_t capacity) {
  return std::make_unique<QueuePolicy<true>>(capacity);
}

std::unique_ptr<EvictionPolicy> make_fifo_policy(uint64_t capacity) {
  return std::make_unique<QueuePolicy<false>>(capacity);
}

}  // namespace tajir::cache::internal
