#include "api/user_habits.h"

#include <algorithm>

namespace tajir::api {

UserHabits::UserHabits(size_t keys_per_user, size_t max_users)
    : keys_per_user_(std::max<size_t>(keys_per_user, 1)),
      users_per_stripe_(std::max<size_t>(max_users / kStripes, 1)) {}

void UserHabits::note(int64_t user, std::string_view key) {
  Stripe& s = stripe(user);
  std::lock_guard lock(s.mu);
  auto it = s.users.find(user);
  if (it == s.users.end()) {
    if (s.users.size() >= users_per_stripe_) {
      auto oldest = std::min_element(s.users.begin(), s.users.end(), [](auto& a, auto& b) {
        return a.second.noted < b.second.noted;
      });
      s.users.erase(oldest);
    }
    it = s.users.emplace(user, User{}).first;
    it->second.habits.reserve(keys_per_user_);
  }
  User& u = it->second;
  u.noted = ++s.clock;
  for (Habit& h : u.habits) {
    if (h.key == key) {
      ++h.count;
      return;
    }
  }
  if (u.habits.size() < keys_per_user_) {
    u.habits.push_back(Habit{std::string(key), 1});
    return;
  }
  Habit& least =
      *std::min_element(u.habits.begin(), u.habits.end(),
                        [](const Habit& a, const Habit& b) { return a.count < b.count; });
  least.key.assign(key);
  ++least.count;
}

std::vector<std::string> UserHabits::take(int64_t user) {
  Stripe& s = stripe(user);
  std::lock_guard lock(s.mu);
  std::vector<std::string> keys;
  auto it = s.users.find(user);
  if (it == s.users.end()) return keys;
  auto& habits = it->second.habits;
  std::stable_sort(habits.begin(), habits.end(),
                   [](const Habit& a, const Habit& b) { return a.count > b.count; });
  for (Habit& h : habits) {
    keys.push_back(h.key);
    h.count /= 2;
  }
  std::erase_if(habits, [](const Habit& h) { return h.count == 0; });
  return keys;
}

size_t UserHabits::users() const {
  size_t n = 0;
  for (const Stripe& s : stripes_) {
    std::lock_guard lock(s.mu);
    n += s.users.size();
  }
  return n;
}

}  // namespace tajir::api
