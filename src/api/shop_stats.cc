#include "api/shop_stats.h"

#include <algorithm>
#include <charconv>

#include "pos/cache_map.h"

namespace tajir::api {
namespace {

using Cell = std::atomic<uint64_t>;
constexpr auto kRelaxed = std::memory_order_relaxed;

uint64_t sum(const std::array<uint64_t, cache::kMaxTypes>& a) {
  uint64_t n = 0;
  for (uint64_t x : a) n += x;
  return n;
}

uint32_t clamp32(uint64_t n) { return static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX)); }

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What every shop's tag starts with: the common prefix of two shops' tags ("shop:").
std::string shop_tag_prefix() {
  const std::string a = pos::CacheMap::shop_tag(1), b = pos::CacheMap::shop_tag(2);
  return a.substr(0, static_cast<size_t>(
                         std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin()));
}

}  // namespace

struct ShopStats::Slot {
  Slot(int64_t shop, uint32_t index) : shop(shop), index(index) {}
  const int64_t shop;
  const uint32_t index;  // in slots_, and in samples
  Cell lookups{0};
  std::array<Cell, cache::kMaxTypes> hits{}, misses{}, errors{};
  Cell latency_ns{0}, latency_samples{0};

  void add_to(Counts& c) const {
    for (size_t t = 0; t < cache::kMaxTypes; ++t) {
      c.hits[t] += hits[t].load(kRelaxed);
      c.misses[t] += misses[t].load(kRelaxed);
      c.errors[t] += errors[t].load(kRelaxed);
    }
    c.latency_ns += latency_ns.load(kRelaxed);
    c.latency_samples += latency_samples.load(kRelaxed);
  }
};

uint64_t ShopStats::Counts::total_hits() const { return sum(hits); }
uint64_t ShopStats::Counts::total_misses() const { return sum(misses); }
uint64_t ShopStats::Counts::total_errors() const { return sum(errors); }
std::optional<double> ShopStats::Counts::latency_us() const {
  if (latency_samples == 0) return std::nullopt;
  return static_cast<double>(latency_ns) / static_cast<double>(latency_samples) / 1000.0;
}

ShopStats::ShopStats(cache::Cache* cache) : cache_(cache), tag_prefix_(shop_tag_prefix()) {
  if (cache_ == nullptr) return;
  ring_.resize(std::max<size_t>(cache_->options().history_points, 1));
  if (cache_->options().maintenance_interval.count() > 0 &&
      cache_->options().history_interval.count() > 0) {
    sampler_ = std::jthread([this](std::stop_token stop) { sample_loop(stop); });
  }
}

ShopStats::~ShopStats() {
  if (sampler_.joinable()) {
    sampler_.request_stop();
    sampler_.join();
  }
}

ShopStats::Slot* ShopStats::find(int64_t shop) const {
  std::shared_lock lock(slots_mu_);
  auto it = slot_of_.find(shop);
  return it == slot_of_.end() ? nullptr : it->second;
}

ShopStats::Slot& ShopStats::slot_for(int64_t shop) {
  if (Slot* s = find(shop)) return *s;
  std::unique_lock lock(slots_mu_);
  auto [it, added] = slot_of_.try_emplace(shop, nullptr);
  if (added) it->second = &slots_.emplace_back(shop, static_cast<uint32_t>(slots_.size()));
  return *it->second;
}

ShopStats::Lookup ShopStats::begin(int64_t shop) {
  Slot& s = slot_for(shop);
  const uint64_t n = s.lookups.fetch_add(1, kRelaxed);
  const bool timed = n < 64 || n % 64 == 0;
  return {&s, timed,
          timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{}};
}

void ShopStats::end(const Lookup& lookup, cache::TypeId type, Outcome outcome) {
  Slot& s = *lookup.slot;
  switch (outcome) {
    case Outcome::kHit:
      s.hits[type].fetch_add(1, kRelaxed);
      if (lookup.timed) {
        auto took = std::chrono::steady_clock::now() - lookup.started;
        s.latency_ns.fetch_add(static_cast<uint64_t>(std::chrono::nanoseconds(took).count()),
                               kRelaxed);
        s.latency_samples.fetch_add(1, kRelaxed);
      }
      break;
    case Outcome::kMiss:
      s.misses[type].fetch_add(1, kRelaxed);
      break;
    case Outcome::kError:
      s.errors[type].fetch_add(1, kRelaxed);
      break;
  }
}

ShopStats::Counts ShopStats::counts(int64_t shop) const {
  Counts c;
  if (const Slot* s = find(shop)) s->add_to(c);
  return c;
}

ShopStats::Counts ShopStats::all_shops() const {
  Counts c;
  std::shared_lock lock(slots_mu_);
  for (const Slot& s : slots_) s.add_to(c);
  return c;
}

cache::TagUsage ShopStats::usage(int64_t shop) const {
  if (cache_ == nullptr) return {};
  const std::string tag = pos::CacheMap::shop_tag(shop);
  for (auto& [t, u] : cache_->usage_by_tag(tag)) {
    if (t == tag) return u;  // the prefix "shop:4" also finds "shop:42"
  }
  return {};
}

void ShopStats::record_point() {
  if (cache_ == nullptr) return;
  // Keys and memory of every shop, from one walk over the cache. A shop with entries but no
  // read yet (warmed) gets its slot here.
  std::vector<std::pair<uint32_t, cache::TagUsage>> usage;
  for (auto& [tag, u] : cache_->usage_by_tag(tag_prefix_)) {
    int64_t shop = 0;
    const char* first = tag.data() + tag_prefix_.size();
    auto [end, ec] = std::from_chars(first, tag.data() + tag.size(), shop);
    if (ec != std::errc() || end != tag.data() + tag.size() || pos::CacheMap::shop_tag(shop) != tag)
      continue;
    usage.emplace_back(slot_for(shop).index, u);
  }
  std::sort(usage.begin(), usage.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::lock_guard lock(history_mu_);  // before the counts: last_ moves with them
  std::vector<Counts> counts;
  {
    std::shared_lock slots_lock(slots_mu_);
    counts.resize(slots_.size());
    for (const Slot& s : slots_) s.add_to(counts[s.index]);
  }
  Sample sample{unix_ms_now(), {}};
  last_.resize(counts.size());
  auto u = usage.begin();
  for (uint32_t i = 0; i < counts.size(); ++i) {
    ShopPoint p{i, 0, 0, 0, 0};
    const uint64_t hits = counts[i].total_hits(), misses = counts[i].total_misses();
    p.hits = clamp32(hits - last_[i].first);
    p.misses = clamp32(misses - last_[i].second);
    last_[i] = {hits, misses};
    if (u != usage.end() && u->first == i) {
      p.keys = clamp32(sum(u->second.keys));
      p.memory_bytes = sum(u->second.memory_bytes);
      ++u;
    }
    if (p.hits != 0 || p.misses != 0 || p.keys != 0 || p.memory_bytes != 0)
      sample.shops.push_back(p);
  }
  ring_[next_ % ring_.size()] = std::move(sample);
  ++next_;
}

std::vector<std::pair<int64_t, ShopStats::Point>> ShopStats::points_since(int64_t after_ms) const {
  std::vector<std::pair<int64_t, Point>> out;
  std::lock_guard lock(history_mu_);
  std::shared_lock slots_lock(slots_mu_);
  for (size_t i = next_ - std::min(next_, ring_.size()); i < next_; ++i) {
    const Sample& s = ring_[i % ring_.size()];
    if (s.at_ms <= after_ms) continue;
    for (const ShopPoint& x : s.shops) {
      out.emplace_back(slots_[x.slot].shop, Point{.at_ms = s.at_ms,
                                                  .hits = x.hits,
                                                  .misses = x.misses,
                                                  .keys = x.keys,
                                                  .memory_bytes = x.memory_bytes});
    }
  }
  return out;
}

std::vector<ShopStats::Point> ShopStats::history(int64_t shop, size_t max_points) const {
  std::vector<Point> out;
  if (cache_ == nullptr) return out;
  const cache::TagUsage now_usage = usage(shop);  // before the lock: a walk over the cache
  const Slot* slot = find(shop);
  Counts now;
  if (slot != nullptr) slot->add_to(now);
  std::lock_guard lock(history_mu_);
  const size_t n = std::min({max_points, next_, ring_.size()});
  out.reserve(n + 1);
  for (size_t i = next_ - n; i < next_; ++i) {
    const Sample& s = ring_[i % ring_.size()];
    Point p{.at_ms = s.at_ms};
    if (slot != nullptr) {
      auto it = std::lower_bound(s.shops.begin(), s.shops.end(), slot->index,
                                 [](const ShopPoint& x, uint32_t index) { return x.slot < index; });
      if (it != s.shops.end() && it->slot == slot->index) {
        p.hits = it->hits;
        p.misses = it->misses;
        p.keys = it->keys;
        p.memory_bytes = it->memory_bytes;
      }
    }
    out.push_back(p);
  }
  Point partial{.at_ms = unix_ms_now(),
                .keys = sum(now_usage.keys),
                .memory_bytes = sum(now_usage.memory_bytes),
                .partial = true};
  if (slot != nullptr) {
    const auto last =
        slot->index < last_.size() ? last_[slot->index] : std::pair<uint64_t, uint64_t>{0, 0};
    partial.hits = now.total_hits() - std::min(last.first, now.total_hits());
    partial.misses = now.total_misses() - std::min(last.second, now.total_misses());
  }
  out.push_back(partial);
  return out;
}

void ShopStats::sample_loop(std::stop_token stop) {
  const auto interval = cache_->options().history_interval;
  auto next = std::chrono::steady_clock::now() + interval;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(wake_mu_);
      wake_.wait_until(lock, stop, next, [] { return false; });
    }
    if (stop.stop_requested()) break;
    record_point();
    next += interval;
  }
}

}  // namespace tajir::api
