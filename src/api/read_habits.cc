#include "api/read_habits.h"

#include <algorithm>
#include <atomic>

namespace tajir::api {

ReadHabits::ReadHabits(size_t keys_per_holder, size_t max_holders)
    : keys_per_holder_(std::max<size_t>(keys_per_holder, 1)),
      holders_per_stripe_(std::max<size_t>(max_holders / 2, 1)) {}

size_t ReadHabits::thread_stripe() {
  static std::atomic<uint32_t> threads{0};
  thread_local const uint32_t index = threads.fetch_add(1, std::memory_order_relaxed);
  return index % kStripes;
}

void ReadHabits::note(int64_t holder, std::string_view key) {
  Stripe& s = mine();
  std::lock_guard lock(s.mu);
  auto it = s.holders.find(holder);
  if (it == s.holders.end()) {
    if (s.holders.size() >= holders_per_stripe_) {
      auto oldest = std::min_element(s.holders.begin(), s.holders.end(), [](auto& a, auto& b) {
        return a.second.noted < b.second.noted;
      });
      s.holders.erase(oldest);
    }
    it = s.holders.emplace(holder, Holder{}).first;
    it->second.habits.reserve(keys_per_holder_);
  }
  Holder& h = it->second;
  h.noted = ++s.clock;
  ++h.reads;
  for (Habit& habit : h.habits) {
    if (habit.key == key) {
      ++habit.count;
      habit.fresh = true;
      return;
    }
  }
  if (h.habits.size() < keys_per_holder_) {
    h.habits.push_back(Habit{std::string(key), 1});
    return;
  }
  Habit& least =
      *std::min_element(h.habits.begin(), h.habits.end(),
                        [](const Habit& a, const Habit& b) { return a.count < b.count; });
  least.key.assign(key);
  ++least.count;
  least.fresh = true;
}

std::vector<std::string> ReadHabits::take(int64_t holder, Keys which, uint32_t min_count) {
  std::vector<Habit> merged;  // in the order first held
  for (Stripe& s : stripes_) {
    std::lock_guard lock(s.mu);
    auto it = s.holders.find(holder);
    if (it == s.holders.end()) continue;
    for (Habit& h : it->second.habits) {
      auto m = std::find_if(merged.begin(), merged.end(),
                            [&](const Habit& x) { return x.key == h.key; });
      if (m == merged.end()) {
        merged.push_back(h);
      } else {
        m->count += h.count;
        m->fresh = m->fresh || h.fresh;
      }
      h.count /= 2;
      h.fresh = false;
    }
    std::erase_if(it->second.habits, [](const Habit& h) { return h.count == 0; });
    it->second.reads /= 2;
  }
  std::stable_sort(merged.begin(), merged.end(),
                   [](const Habit& a, const Habit& b) { return a.count > b.count; });
  std::vector<std::string> keys;
  for (Habit& h : merged) {
    if (keys.size() == keys_per_holder_ || h.count < min_count) break;
    if (h.fresh || which == Keys::kAll) keys.push_back(std::move(h.key));
  }
  return keys;
}

uint64_t ReadHabits::reads(int64_t holder) const {
  uint64_t n = 0;
  for (const Stripe& s : stripes_) {
    std::lock_guard lock(s.mu);
    auto it = s.holders.find(holder);
    if (it != s.holders.end()) n += it->second.reads;
  }
  return n;
}

size_t ReadHabits::holders() const {
  std::vector<int64_t> all;
  for (const Stripe& s : stripes_) {
    std::lock_guard lock(s.mu);
    for (const auto& [holder, h] : s.holders) all.push_back(holder);
  }
  std::sort(all.begin(), all.end());
  return static_cast<size_t>(std::unique(all.begin(), all.end()) - all.begin());
}

}  // namespace tajir::api
