#include "cache/internal/freshness.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <latch>
#include <map>
#include <optional>
#include <thread>

namespace tajir::cache::internal {
namespace {

using namespace std::chrono_literals;

// One cache shard in miniature: entries under a mutex, each put checked and linked as
// Cache::store() does it, each invalidation run through Freshness as Cache runs it.
struct Store {
  TagIndex tags{1};
  Freshness fresh{tags, std::chrono::minutes(5)};
  std::mutex mu;
  KeyEpochs erased;                            // GUARDED_BY(mu)
  std::map<std::string, std::string> entries;  // GUARDED_BY(mu)

  static uint64_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

  bool put(const std::string& key, const std::string& value, std::vector<std::string> key_tags,
           const Ticket* t = nullptr) {
    std::lock_guard lock(mu);
    if (t != nullptr && fresh.outdated(erased, hash(key), *t, 0)) return false;
    if (!fresh.link(key_tags, key, t != nullptr ? t->epoch : UINT64_MAX)) return false;
    entries[key] = value;
    return true;
  }
  std::optional<std::string> get(const std::string& key) {
    std::lock_guard lock(mu);
    auto it = entries.find(key);
    if (it == entries.end()) return std::nullopt;
    return it->second;
  }
  size_t erase_keys(const std::vector<std::string>& keys) {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (const auto& k : keys) n += entries.erase(k);
    return n;
  }
  size_t invalidate_tag(std::string_view tag) {
    return fresh.invalidate_tag(tag, 0, [&](const auto& keys) { return erase_keys(keys); });
  }
  bool erase(const std::string& key) {
    return fresh.invalidate_key(mu, erased, hash(key), [&] { return entries.erase(key) > 0; });
  }
  size_t clear() {
    return fresh.invalidate_all([&] {
      std::lock_guard lock(mu);
      const size_t n = entries.size();
      entries.clear();
      return n;
    });
  }
};

TEST(Freshness, TheTicketIsTheNewestEpochBelowEveryHeldOne) {
  Store s;
  const uint64_t start = s.fresh.ticket(0).epoch;
  std::optional<Freshness::Hold> a(s.fresh.begin());
  std::optional<Freshness::Hold> b(s.fresh.begin());
  EXPECT_EQ(a->epoch(), start + 1);
  EXPECT_EQ(b->epoch(), start + 2);
  EXPECT_EQ(s.fresh.ticket(0).epoch, start);
  b.reset();  // the later one ends first...
  EXPECT_EQ(s.fresh.ticket(0).epoch, start) << "...which says nothing of the earlier one";
  a.reset();
  EXPECT_EQ(s.fresh.ticket(0).epoch, start + 2);
}

TEST(Freshness, AFillThatBeganBeforeAnInvalidationLeavesNothingOnceItReturned) {
  Store s;
  // The invalidation takes the key set after the fill linked: it erases the fill's entry.
  Ticket t = s.fresh.ticket(0);
  ASSERT_TRUE(s.put("k", "old", {"t"}, &t));
  EXPECT_EQ(s.invalidate_tag("t"), 1u);
  EXPECT_FALSE(s.get("k"));
  // The invalidation came first: the link is refused.
  t = s.fresh.ticket(0);
  s.invalidate_tag("t");
  EXPECT_FALSE(s.put("k", "old", {"t"}, &t));
  EXPECT_FALSE(s.get("k"));
  // The same for a key, and for every key.
  t = s.fresh.ticket(0);
  s.erase("k");
  EXPECT_FALSE(s.put("k", "old", {}, &t));
  t = s.fresh.ticket(0);
  s.clear();
  EXPECT_FALSE(s.put("k", "old", {}, &t));
  // Unrelated invalidations refuse nothing.
  t = s.fresh.ticket(0);
  s.invalidate_tag("other");
  EXPECT_TRUE(s.put("k", "new", {"t"}, &t));
  EXPECT_EQ(s.get("k"), "new");
}

TEST(Freshness, ARefusedPutUndoesOnlyTheLinksItMade) {
  Store s;
  ASSERT_TRUE(s.put("k", "v", {"shared"}));
  Ticket t = s.fresh.ticket(0);
  s.invalidate_tag("late");
  EXPECT_FALSE(s.fresh.link(std::vector<std::string>{"shared", "mine", "late"}, "k", t.epoch));
  // "shared" was linked before the call and still is; "mine" was linked by it and is not.
  EXPECT_EQ(s.tags.invalidate("shared", 0, 0).keys, std::vector<std::string>{"k"});
  EXPECT_TRUE(s.tags.invalidate("mine", 0, 0).keys.empty());
}

TEST(Freshness, TicketsOlderThanTheHorizonAreRefusedAndTheirVersionsForgotten) {
  TagIndex tags(1);
  Freshness fresh(tags, 10s);
  KeyEpochs erased;
  const int64_t s = 1'000'000'000;
  Ticket t = fresh.ticket(0);
  EXPECT_FALSE(fresh.outdated(erased, 1, t, 10 * s));
  EXPECT_TRUE(fresh.outdated(erased, 1, t, 10 * s + 1));
  fresh.invalidate_tag("t", 5 * s, [](const auto&) { return size_t{0}; });
  EXPECT_EQ(fresh.collect_garbage(15 * s), 0u) << "a ticket from 5 s may still need it";
  EXPECT_EQ(fresh.collect_garbage(25 * s), 0u) << "and one taken as late as the erase's end";
  EXPECT_EQ(fresh.collect_garbage(25 * s + 1), 1u);
}

TEST(Freshness, AWaiterTakesTheLeadersValueOnlyIfNothingChangedSinceItsTicket) {
  Store s;
  const std::vector<std::string> tags{"t"};
  Ticket t = s.fresh.ticket(0);
  EXPECT_TRUE(s.fresh.still_fresh(s.mu, s.erased, Store::hash("k"), tags, t, 0));
  s.invalidate_tag("t");
  EXPECT_FALSE(s.fresh.still_fresh(s.mu, s.erased, Store::hash("k"), tags, t, 0));
  t = s.fresh.ticket(0);
  s.erase("k");
  EXPECT_FALSE(s.fresh.still_fresh(s.mu, s.erased, Store::hash("k"), {}, t, 0));
  t = s.fresh.ticket(0);
  s.clear();
  EXPECT_FALSE(s.fresh.still_fresh(s.mu, s.erased, Store::hash("k"), {}, t, 0));
}

// --- interleavings that broke earlier versions ---------------------------------------------

// Two invalidations of one tag: the newer one reaches the index first and takes the key set,
// the older one arrives late. The first version stored the version as it came, so the late
// one lowered it, and a fill with a ticket between the two epochs was linked while the newer
// invalidation was still in progress.
TEST(Freshness, ConcurrentInvalidationsOfATagNeverLowerItsVersion) {
  Store s;
  ASSERT_TRUE(s.put("item", "old", {"t"}));
  std::optional<Freshness::Hold> older(s.fresh.begin());
  std::optional<Freshness::Hold> newer(s.fresh.begin());
  const uint64_t older_epoch = older->epoch(), newer_epoch = newer->epoch();
  TagIndex::Invalidation by_newer = s.fresh.take(*newer, "t", 0);
  TagIndex::Invalidation by_older = s.fresh.take(*older, "t", 0);
  ASSERT_EQ(by_newer.keys, std::vector<std::string>{"item"});
  ASSERT_TRUE(by_older.keys.empty());
  EXPECT_EQ(s.tags.version("t"), newer_epoch)
      << "the late, older invalidation keeps the newer version";

  s.erase_keys(by_newer.keys);
  s.fresh.finish("t", by_newer);
  s.fresh.finish("t", by_older);  // returns: the newer one, which took the keys, has erased them
  older.reset();
  // The newer invalidation has not returned yet. A fill taking its ticket now gets the older
  // epoch, below the newer one's: its put overlaps an invalidation of its tag and is refused.
  Ticket t = s.fresh.ticket(0);
  ASSERT_EQ(t.epoch, older_epoch);
  EXPECT_FALSE(s.put("item", "read while the newer write was being invalidated", {"t"}, &t));
  newer.reset();
  t = s.fresh.ticket(0);
  EXPECT_TRUE(s.put("item", "new", {"t"}, &t));
}

// Two writers invalidate one tag at once: the first takes the key set, the second finds it
// empty. Before TagIndex::finish, the second returned at once, while the first was still to
// erase the old entry: its writer answered, and a read after that answer hit the old value.
TEST(Freshness, TheSecondOfTwoInvalidationsOfATagReturnsOnlyOnceTheFirstHasErased) {
  Store s;
  ASSERT_TRUE(s.put("item", "old", {"t"}));
  std::latch first_took(1);
  std::mutex mu;
  std::condition_variable cv;
  bool second_returned = false;
  std::thread first([&] {
    s.fresh.invalidate_tag("t", 0, [&](const std::vector<std::string>& keys) {
      first_took.count_down();
      // Hold on to the keys until the second invalidation returns; with finish() it cannot
      // return first, so give up waiting after a while and erase.
      std::unique_lock lock(mu);
      cv.wait_for(lock, 200ms, [&] { return second_returned; });
      lock.unlock();
      return s.erase_keys(keys);
    });
  });
  first_took.wait();
  s.invalidate_tag("t");
  const bool old_still_there = s.get("item").has_value();
  {
    std::lock_guard lock(mu);
    second_returned = true;
  }
  cv.notify_all();
  first.join();
  EXPECT_FALSE(old_still_there) << "the second invalidation returned before the old entry went";
}

// A page built from its items' entries, while an invalidation of an item has raised the item's
// tag version but not yet erased the item's entry, and a later invalidation has come and gone.
// With the newest epoch drawn (or the newest ended) as the ticket, the page was linked to the
// item's tag after the invalidation took its keys, and outlived it showing the old item.
TEST(Freshness, AFillNeverReadsWhatAnInvalidationItsTicketCoversIsStillToRemove) {
  Store s;
  ASSERT_TRUE(s.put("item", "old", {"item"}));
  std::latch took(1), go_on(1);
  std::thread invalidation([&] {
    s.fresh.invalidate_tag("item", 0, [&](const std::vector<std::string>& keys) {
      took.count_down();
      go_on.wait();
      return s.erase_keys(keys);
    });
  });
  took.wait();
  s.invalidate_tag("something else");  // a later invalidation that ends first

  Ticket t = s.fresh.ticket(0);
  const std::optional<std::string> item = s.get("item");
  ASSERT_EQ(item, "old") << "the invalidation has not erased it yet";
  const bool stored = s.put("page", "[" + *item + "]", {"item"}, &t);
  go_on.count_down();
  invalidation.join();
  EXPECT_FALSE(stored);
  EXPECT_FALSE(s.get("page")) << "a page showing the old item outlived its invalidation";
}

// clear() and invalidate_matching() record one epoch for every key. Two patterns at once, the
// newer recording first and the older after it: stored as it came, the epoch went back to the
// older one; once that one had ended, a fill's ticket equalled it and passed while the newer
// was still scanning (a page built from an entry the newer pattern was about to drop), unlike
// a fill overlapping a tag's invalidation.
TEST(Freshness, ConcurrentPatternsNeverLowerTheEpochOfEveryKey) {
  Store s;
  ASSERT_TRUE(s.put("b:item", "old", {}));
  std::optional<Freshness::Hold> older(s.fresh.begin());  // invalidate_matching("a:*")
  std::optional<Freshness::Hold> newer(s.fresh.begin());  // invalidate_matching("b:*")
  s.fresh.outdate_all(*newer);
  s.fresh.outdate_all(*older);  // arrives late
  older.reset();                // "a:*" matched nothing and has returned

  Ticket t = s.fresh.ticket(0);
  const std::optional<std::string> item = s.get("b:item");
  ASSERT_EQ(item, "old") << "the newer pattern has not reached it yet";
  const bool stored = s.put("page", "[" + *item + "]", {}, &t);
  s.erase_keys({"b:item"});  // the newer pattern's scan reaches it
  newer.reset();
  EXPECT_FALSE(stored);
  EXPECT_FALSE(s.get("page")) << "a page showing the old item outlived the pattern";
}

// A ticket taken while an invalidation is still erasing may be used up to a horizon after it
// was taken; the tag's version, aged from the invalidation's start, must outlive it.
TEST(Freshness, AVersionOutlivesEveryTicketThatNeedsIt) {
  constexpr int64_t kHorizon = std::chrono::nanoseconds(std::chrono::minutes(5)).count();
  TagIndex tags{1};
  Freshness fresh{tags, std::chrono::minutes(5)};
  KeyEpochs erased;
  ASSERT_EQ(tags.link("t", "k", UINT64_MAX), TagIndex::LinkResult::kLinked);
  std::optional<Ticket> late;
  {
    Freshness::Hold hold = fresh.begin();
    TagIndex::Invalidation inv = fresh.take(hold, "t", /*now_ns=*/0);
    late = fresh.ticket(/*now_ns=*/kHorizon / 2);  // a fill starts during a (slow) erase
    fresh.finish("t", inv);
  }
  const int64_t put_at = kHorizon / 2 + kHorizon - 1;  // the fill's ticket is still valid
  fresh.collect_garbage(put_at);
  EXPECT_FALSE(fresh.outdated(erased, 1, *late, put_at));
  EXPECT_FALSE(fresh.link(std::vector<std::string>{"t"}, "k", late->epoch))
      << "the version was forgotten while a ticket older than it could still be used";
}

}  // namespace
}  // namespace tajir::cache::internal
