#include "api/invalidator.h"

#include <algorithm>
#include <thread>

namespace tajir::api {

Invalidator::Invalidator(ReadCache& reads, std::string internal_token, bool refill,
                         std::chrono::milliseconds delay)
    : reads_(&reads), internal_token_(std::move(internal_token)), delay_(delay) {
  if (refill && reads.engine() != nullptr) {
    refiller_ = std::make_unique<BackgroundWarmer<std::string>>(
        [this](const std::string& key) { replay(key); }, std::chrono::milliseconds(0),
        kMaxPendingRefills);
  }
}

Invalidator::~Invalidator() {
  refiller_.reset();  // its thread routes requests: stopped before anything else goes
}

Status Invalidator::after_write(const std::vector<std::string>& tags,
                                const Maintenance* maintenance) {
  if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  std::vector<cache::DroppedKey> dropped;
  std::vector<cache::DroppedKey>* reported = refiller_ ? &dropped : nullptr;
  Status told;
  if (maintenance == nullptr) {
    told = reads_->invalidate(tags, cache::InvalidationCause::kWrite, reported).status();
  } else {
    Sequence& seq = sequences_[static_cast<uint64_t>(maintenance->shop) % sequences_.size()];
    std::unique_lock lock(seq.mu);
    seq.advanced.wait_for(lock, kPatience, [&] {
      auto it = seq.done.find(maintenance->shop);
      return it == seq.done.end() || it->second.done + 1 >= maintenance->seq;
    });
    const bool first = !seq.done.contains(maintenance->shop);
    Progress& progress = seq.done[maintenance->shop];
    progress.in_order = first || (progress.in_order && progress.done + 1 == maintenance->seq);
    const cache::Rewriter rewrite = maintenance->rewriter(progress.in_order);
    told = reads_->invalidate(tags, cache::InvalidationCause::kWrite, reported, &rewrite).status();
    progress.done = std::max(progress.done, maintenance->seq);
    lock.unlock();
    seq.advanced.notify_all();
  }
  if (!refiller_) return told;
  std::lock_guard lock(credits_mu_);
  if (credits_.size() > kMaxPendingRefills * 16) credits_.clear();  // keys evicted meanwhile
  for (auto& d : dropped) {
    auto it = credits_.find(d.key);
    if (d.read) {
      if (it == credits_.end()) it = credits_.emplace(d.key, 0).first;
      it->second = kRefillCredit;
    } else if (it == credits_.end()) {
      continue;
    } else if (--it->second <= 0) {
      credits_.erase(it);
      continue;
    }
    refiller_->request(d.key);
  }
  return told;
}

bool Invalidator::replay(const std::string& key) const {
  auto read = ReadCache::read_of(key);
  if (!read || router_ == nullptr) return false;  // not a request's read (sessions, indexes)
  http::Request req;
  req.method = http::Method::kGet;
  if (!req.set_target(read->target).ok()) return false;
  req.headers = {{"Authorization", "Bearer " + internal_token_},
                 {"X-Shop-Id", std::move(read->shop)}};
  (void)router_->route(req);
  return true;
}

RefillStats Invalidator::refill_stats() const {
  if (!refiller_) return {};
  return {refiller_->completed(), refiller_->dropped()};
}

}  // namespace tajir::api
