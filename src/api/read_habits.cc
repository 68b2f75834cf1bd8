#include "api/read_habits.h"

#include <algorithm>

namespace tajir::api {

ReadHabits::ReadHabits(size_t keys_per_holder, size_t max_holders)
    : keys_per_holder_(std::max<size_t>(keys_per_holder, 1)),
      holders_per_stripe_(std::max<size_t>(max_holders / kStripes, 1)) {}

void ReadHabits::note(int64_t holder, std::string_view key) {
  Stripe& s = stripe(holder);
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

std::vector<std::string> ReadHabits::take(int64_t holder, Keys which) {
  Stripe& s = stripe(holder);
  std::lock_guard lock(s.mu);
  std::vector<std::string> keys;
  auto it = s.holders.find(holder);
  if (it == s.holders.end()) return keys;
  auto& habits = it->second.habits;
  std::stable_sort(habits.begin(), habits.end(),
                   [](const Habit& a, const Habit& b) { return a.count > b.count; });
  for (Habit& h : habits) {
    if (h.fresh || which == Keys::kAll) keys.push_back(h.key);
    h.count /= 2;
    h.fresh = false;
  }
  std::erase_if(habits, [](const Habit& h) { return h.count == 0; });
  it->second.reads /= 2;
  return keys;
}

uint64_t ReadHabits::reads(int64_t holder) const {
  const Stripe& s = stripe(holder);
  std::lock_guard lock(s.mu);
  auto it = s.holders.find(holder);
  return it == s.holders.end() ? 0 : it->second.reads;
}

size_t ReadHabits::holders() const {
  size_t n = 0;
  for (const Stripe& s : stripes_) {
    std::lock_guard lock(s.mu);
    n += s.holders.size();
  }
  return n;
}

}  // namespace tajir::api
