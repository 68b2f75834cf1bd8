// NodeList: an intrusive, circular, doubly-linked list of PolicyNodes with a sentinel.
// O(1) push, unlink and pop; allocates nothing. Not thread-safe (used under a shard lock).
#pragma once

#include "cache/eviction_policy.h"

namespace tajir::cache::internal {

class NodeList {
 public:
  NodeList() { head_.prev = head_.next = &head_; }
  NodeList(const NodeList&) = delete;
  NodeList& operator=(const NodeList&) = delete;

  bool empty() const { return head_.next == &head_; }
  uint64_t size() const { return size_; }
  uint64_t charge() const { return charge_; }

  // The node that has been in the list longest (the tail end of an LRU), or nullptr.
  PolicyNode* oldest() const { return empty() ? nullptr : head_.prev; }
  PolicyNode* newest() const { return empty() ? nullptr : head_.next; }

  void push_newest(PolicyNode* n) {
    n->next = head_.next;
    n->prev = &head_;
    head_.next->prev = n;
    head_.next = n;
    ++size_;
    charge_ += n->charge;
  }

  // REQUIRES: n is in this list.
  void unlink(PolicyNode* n) {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = nullptr;
    --size_;
    charge_ -= n->charge;
  }

  PolicyNode* pop_oldest() {
    PolicyNode* n = oldest();
    if (n != nullptr) unlink(n);
    return n;
  }

  // REQUIRES: n is in this list. Makes it the newest.
  void move_to_newest(PolicyNode* n) {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = head_.next;
    n->prev = &head_;
    head_.next->prev = n;
    head_.next = n;
  }

 private:
  PolicyNode head_;
  uint64_t size_ = 0;
  uint64_t charge_ = 0;
};

}  // namespace tajir::cache::internal
