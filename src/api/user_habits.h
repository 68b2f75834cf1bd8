// UserHabits: for each user, the few cached reads they make most, so that their next login can
// warm them (Api: the login warmer) before the till asks.
//
// Per user, a top-k by the space-saving rule: a key already held counts one more; a new key
// takes a free place, or else the place of the least counted key, with that count plus one (so
// a key read often recently climbs past ones read once long ago). take() hands the keys out,
// most counted first, and halves every count: the sessions since weigh as much as all before.
// At most `max_users` users are held; a new one past that replaces the one noted longest ago in
// its stripe. Memory: about max_users * keys_per_user keys.
//
// Thread safety: thread-safe. Users are spread over kStripes mutexes, so requests of different
// users rarely wait for each other; note() copies the key only when it is new for the user.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tajir::api {

class UserHabits {
 public:
  UserHabits(size_t keys_per_user, size_t max_users);

  // `user` read the cache key `key`.
  void note(int64_t user, std::string_view key);
  // The user's keys, most counted first; halves their counts (keys whose count drops to 0 go).
  std::vector<std::string> take(int64_t user);
  // Users held now.
  size_t users() const;

  static constexpr size_t kStripes = 16;

 private:
  struct Habit {
    std::string key;
    uint32_t count = 0;
  };
  struct User {
    std::vector<Habit> habits;
    uint64_t noted = 0;  // the stripe's clock at the last note
  };
  struct Stripe {
    mutable std::mutex mu;
    std::unordered_map<int64_t, User> users;  // GUARDED_BY(mu)
    uint64_t clock = 0;                       // GUARDED_BY(mu)
  };
  Stripe& stripe(int64_t user) { return stripes_[static_cast<uint64_t>(user) % kStripes]; }

  const size_t keys_per_user_;
  const size_t users_per_stripe_;
  std::array<Stripe, kStripes> stripes_;
};

}  // namespace tajir::api
