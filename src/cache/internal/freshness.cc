#include "cache/internal/freshness.h"

namespace tajir::cache::internal {

Freshness::Freshness(TagIndex& tags, std::chrono::nanoseconds horizon)
    : tags_(tags), horizon_ns_(horizon.count()) {}

Ticket Freshness::ticket(int64_t now_ns) const {
  std::lock_guard lock(mu_);
  return Ticket{held_.empty() ? epoch_ : *held_.begin() - 1, now_ns};
}

Freshness::Hold Freshness::begin() {
  std::lock_guard lock(mu_);
  held_.insert(++epoch_);
  return Hold(this, epoch_);
}

void Freshness::end(uint64_t epoch) {
  std::lock_guard lock(mu_);
  held_.erase(epoch);
}

void Freshness::outdate_all(const Hold& hold) {
  uint64_t seen = all_epoch_.load(std::memory_order_relaxed);
  while (seen < hold.epoch() &&
         !all_epoch_.compare_exchange_weak(seen, hold.epoch(), std::memory_order_release,
                                           std::memory_order_relaxed)) {
  }
}

bool Freshness::outdated(const KeyEpochs& erased, uint64_t hash, const Ticket& t,
                         int64_t now_ns) const {
  return t.epoch < all_epoch_.load(std::memory_order_acquire) || t.epoch < erased.of(hash) ||
         now_ns - t.taken_ns > horizon_ns_;
}

bool Freshness::link(std::span<const std::string> tags, std::string_view key, uint64_t epoch) {
  std::vector<bool> linked(tags.size(), false);
  for (size_t i = 0; i < tags.size(); ++i) {
    auto r = tags_.link(tags[i], key, epoch);
    if (r == TagIndex::LinkResult::kStale) {
      for (size_t j = 0; j < i; ++j) {
        if (linked[j]) tags_.unlink(tags[j], key);
      }
      return false;
    }
    linked[i] = r == TagIndex::LinkResult::kLinked;
  }
  return true;
}

bool Freshness::still_fresh(std::mutex& shard_mu, const KeyEpochs& erased, uint64_t hash,
                            std::span<const std::string> tags, const Ticket& t,
                            int64_t now_ns) const {
  {
    std::lock_guard lock(shard_mu);
    if (outdated(erased, hash, t, now_ns)) return false;
  }
  for (const auto& tag : tags) {
    if (tags_.version(tag) > t.epoch) return false;
  }
  return true;
}

TagIndex::Invalidation Freshness::take(const Hold& hold, std::string_view tag, int64_t now_ns) {
  return tags_.invalidate(tag, hold.epoch(), now_ns);
}

void Freshness::finish(std::string_view tag, const TagIndex::Invalidation& inv) {
  tags_.finish(tag, inv.seq);
}

bool Freshness::relink(std::string_view tag, std::string_view key, uint64_t seq) {
  return tags_.relink(tag, key, seq);
}

size_t Freshness::collect_garbage(int64_t now_ns) {
  // Two horizons, not one: a version is aged from its invalidation's start, and a ticket taken
  // while that invalidation still erased may be used up to a horizon later (see the header).
  return tags_.collect_garbage(now_ns - 2 * horizon_ns_);
}

}  // namespace tajir::cache::internal
