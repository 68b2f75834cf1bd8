// ReadHabits: for each holder, the few cached reads it makes most, so that they can be warmed
// before they are asked for. A holder is a user (Api: warmed at their next login) or a shop's
// hour of the week (ShopRhythm: warmed ahead of that hour).
//
// Per holder, a top-k by the space-saving rule: a key already held counts one more; a new key
// takes a free place, or else the place of the least counted key, with that count plus one (so
// a key read often recently climbs past ones read once long ago). take() hands the keys out,
// most counted first, and halves every count, and the holder's reads: the sessions since weigh
// as much as all before.
//
// note() is on the hit path, so it writes nothing another thread writes: each thread notes in
// its own stripe (threads beyond kStripes share one), and take() and reads() add the holder's
// stripes up. A stripe holds at most max_holders / 2 holders (a new one replaces the one noted
// longest ago in it), so the memory is at most about 2 * max_holders * keys_per_holder keys
// whatever the threads.
//
// Thread safety: thread-safe. note() copies the key only when it is new for the holder in its
// stripe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tajir::api {

class ReadHabits {
 public:
  ReadHabits(size_t keys_per_holder, size_t max_holders);

  // `holder` read the cache key `key`.
  void note(int64_t holder, std::string_view key);
  // The holder's keys counted at least min_count, most counted first (with kFresh only those
  // read since the last take); halves their counts (keys whose count drops to 0 go) and its
  // reads.
  enum class Keys : uint8_t { kAll, kFresh };
  std::vector<std::string> take(int64_t holder, Keys which = Keys::kAll, uint32_t min_count = 1);
  // The holder's reads noted (halved at each take()); 0 for one not held.
  uint64_t reads(int64_t holder) const;
  // Holders held now.
  size_t holders() const;

  static constexpr size_t kStripes = 4;
  // The calling thread's stripe, of kStripes (ShopRhythm stripes by it too).
  static size_t thread_stripe();

 private:
  struct Habit {
    std::string key;
    uint32_t count = 0;
    bool fresh = true;  // read since the last take
  };
  struct Holder {
    std::vector<Habit> habits;
    uint64_t reads = 0;
    uint64_t noted = 0;  // the stripe's clock at the last note
  };
  struct alignas(64) Stripe {
    mutable std::mutex mu;
    std::unordered_map<int64_t, Holder> holders;  // GUARDED_BY(mu)
    uint64_t clock = 0;                           // GUARDED_BY(mu)
  };
  Stripe& mine() { return stripes_[thread_stripe()]; }

  const size_t keys_per_holder_;
  const size_t holders_per_stripe_;
  std::array<Stripe, kStripes> stripes_;
};

}  // namespace tajir::api
