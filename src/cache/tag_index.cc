#include "cache/tag_index.h"

#include <algorithm>
#include <bit>

namespace tajir::cache {

TagIndex::TagIndex(size_t shards)
    : shards_(new Shard[std::bit_ceil(std::max<size_t>(shards, 1))]),
      shard_mask_(std::bit_ceil(std::max<size_t>(shards, 1)) - 1) {}

TagIndex::Shard& TagIndex::shard_for(std::string_view tag) const {
  return shards_[internal::StringHash{}(tag)&shard_mask_];
}

TagIndex::LinkResult TagIndex::link(std::string_view tag, std::string_view key,
                                    uint64_t ticket_epoch) {
  Shard& s = shard_for(tag);
  std::lock_guard lock(s.mu);
  auto it = s.tags.find(tag);
  if (it == s.tags.end()) {
    it = s.tags.emplace(std::string(tag), TagState{}).first;
  } else if (it->second.version > ticket_epoch) {
    return LinkResult::kStale;
  }
  return it->second.keys.emplace(key).second ? LinkResult::kLinked : LinkResult::kAlreadyLinked;
}

void TagIndex::unlink(std::string_view tag, std::string_view key) {
  Shard& s = shard_for(tag);
  std::lock_guard lock(s.mu);
  auto it = s.tags.find(tag);
  if (it == s.tags.end()) return;
  it->second.keys.erase(key);
  if (it->second.keys.empty() && it->second.version == 0 && it->second.erasing.empty()) {
    s.tags.erase(it);
  }
}

TagIndex::Invalidation TagIndex::invalidate(std::string_view tag, uint64_t version,
                                            int64_t now_ns) {
  Shard& s = shard_for(tag);
  internal::StringSet keys;
  Invalidation out;
  {
    std::lock_guard lock(s.mu);
    auto [it, inserted] = s.tags.try_emplace(std::string(tag));
    TagState& state = it->second;
    // Concurrent invalidations may arrive here out of epoch order: keep the newest.
    state.version = std::max(state.version, version);
    state.invalidated_at_ns = now_ns;
    keys.swap(state.keys);
    out.seq = ++state.last_seq;
    state.erasing.push_back(out.seq);
  }
  out.keys.reserve(keys.size());
  while (!keys.empty()) out.keys.push_back(std::move(keys.extract(keys.begin()).value()));
  return out;
}

void TagIndex::finish(std::string_view tag, uint64_t seq) {
  Shard& s = shard_for(tag);
  std::unique_lock lock(s.mu);
  auto it = s.tags.find(tag);
  if (it == s.tags.end()) return;  // cannot happen: a tag being erased is never collected
  std::erase(it->second.erasing, seq);
  s.erased.notify_all();
  s.erased.wait(lock, [&] {
    auto st = s.tags.find(tag);
    return st == s.tags.end() || std::none_of(st->second.erasing.begin(), st->second.erasing.end(),
                                              [&](uint64_t other) { return other < seq; });
  });
}

bool TagIndex::relink(std::string_view tag, std::string_view key, uint64_t seq) {
  Shard& s = shard_for(tag);
  std::lock_guard lock(s.mu);
  auto it = s.tags.find(tag);
  if (it == s.tags.end() || it->second.last_seq != seq) return false;
  it->second.keys.emplace(key);
  return true;
}

uint64_t TagIndex::version(std::string_view tag) const {
  Shard& s = shard_for(tag);
  std::lock_guard lock(s.mu);
  auto it = s.tags.find(tag);
  return it == s.tags.end() ? 0 : it->second.version;
}

size_t TagIndex::collect_garbage(int64_t before_ns) {
  size_t dropped = 0;
  for (size_t i = 0; i <= shard_mask_; ++i) {
    Shard& s = shards_[i];
    std::lock_guard lock(s.mu);
    dropped += absl::erase_if(s.tags, [&](const auto& kv) {
      return kv.second.keys.empty() && kv.second.erasing.empty() &&
             kv.second.invalidated_at_ns < before_ns;
    });
  }
  return dropped;
}

size_t TagIndex::size() const {
  size_t n = 0;
  for (size_t i = 0; i <= shard_mask_; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].tags.size();
  }
  return n;
}

}  // namespace tajir::cache
