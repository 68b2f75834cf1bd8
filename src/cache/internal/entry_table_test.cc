// Tests of the lock-free-read entry table (entry_table.h) and the epochs that keep what its
// readers reached allocated (reclaim.h): against a reference model, and with readers racing a
// writer (run these under TSan too: make test-sanitize).
#include "cache/internal/entry_table.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cache/internal/reclaim.h"

namespace tajir::cache::internal {
namespace {

struct Item {
  uint64_t hash = 0;
  std::string name;
  int version = 0;
  std::string_view key() const { return name; }
};

Item* make_item(const std::string& name, int version) {
  return new Item{XXH3_64bits(name.data(), name.size()), name, version};
}
void free_item(void* p) { delete static_cast<Item*>(p); }
uint64_t hash_of(const std::string& s) { return XXH3_64bits(s.data(), s.size()); }

TEST(Epochs, ARetiredObjectOutlivesASectionThatBeganBeforeIt) {
  static std::atomic<int> freed{0};
  freed = 0;
  Retired retired;
  int object = 0;
  {
    ReadSection section;
    retired.retire(
        &object, [](void*) { ++freed; }, 0);
    EXPECT_EQ(retired.collect(), 1u);
    {
      ReadSection nested;  // sections nest: leaving the inner one keeps the outer one's hold
    }
    EXPECT_EQ(retired.collect(), 1u);
    EXPECT_EQ(freed, 0);
  }
  EXPECT_EQ(retired.collect(), 0u);
  EXPECT_EQ(freed, 1);
}

TEST(Epochs, AReaderOnAnotherThreadHoldsBackOnlyWhatWasRetiredBeforeItLeft) {
  static std::atomic<int> freed{0};
  freed = 0;
  Retired retired;
  int a = 0, b = 0;
  std::atomic<int> step{0};
  std::thread reader([&] {
    ReadSection section;
    step = 1;
    while (step != 2) std::this_thread::yield();
  });
  while (step != 1) std::this_thread::yield();
  retired.retire(
      &a, [](void*) { ++freed; }, 0);
  EXPECT_EQ(retired.collect(), 1u) << "freed under a reader that began before";
  step = 2;
  reader.join();
  retired.retire(
      &b, [](void*) { ++freed; }, 0);
  EXPECT_EQ(retired.collect(), 0u);
  EXPECT_EQ(freed, 2);
}

TEST(Epochs, ThreadIndexesAreDenseAndReused) {
  const uint32_t mine = thread_index();
  uint32_t first = 0, second = 0;
  std::thread([&] { first = thread_index(); }).join();
  std::thread([&] { second = thread_index(); }).join();
  EXPECT_NE(first, mine);
  EXPECT_EQ(first, second) << "an exited thread's index goes to the next new thread";
}

// Random inserts, replacements and erases against a std::map, through several rehashes both
// ways (growth, and tombstones swept out).
TEST(EntryTable, AgreesWithAReferenceModel) {
  Retired retired;
  auto table = std::make_unique<EntryTable<Item>>(retired);
  std::map<std::string, Item*> model;
  std::mt19937 rng(5);
  for (int step = 0; step < 200'000; ++step) {
    // A key space that grows then shrinks, so the table grows and then mostly holds tombstones.
    const size_t space = step < 100'000 ? 1 + step / 20 : 1 + (200'000 - step) / 20;
    const std::string k = "key:" + std::to_string(rng() % space);
    auto it = model.find(k);
    Item* found = table->find(k, hash_of(k));
    ASSERT_EQ(found, it == model.end() ? nullptr : it->second) << k;
    const int op = static_cast<int>(rng() % 3);
    if (it == model.end()) {
      Item* e = make_item(k, 0);
      table->insert(e);
      model[k] = e;
    } else if (op == 0) {
      Item* e = make_item(k, it->second->version + 1);
      table->replace(it->second, e);
      retired.retire(it->second, free_item, 0);
      it->second = e;
    } else {
      table->erase(it->second);
      retired.retire(it->second, free_item, 0);
      model.erase(it);
    }
    ASSERT_EQ(table->size(), model.size());
    if (step % 1000 == 0) retired.collect();
  }
  size_t seen = 0;
  table->for_each([&](Item* e) {
    ++seen;
    EXPECT_EQ(model.at(e->name), e);
  });
  EXPECT_EQ(seen, model.size());
  for (auto& [k, e] : model) delete e;
  table.reset();
  EXPECT_EQ(retired.collect(), 0u);
}

// Readers search without a lock while a writer inserts, replaces and erases under one, through
// rehashes. A key that is always there is always found (replacement is one store), with a
// version that never goes back; a key never inserted is never found; nothing a reader reached
// is freed under it (TSan and ASan see that).
TEST(EntryTable, ReadersRacingAWriterFindWhatIsThere) {
  constexpr int kStable = 64;
  std::mutex mu;
  Retired retired;
  EntryTable<Item> table(retired);
  std::vector<std::string> stable;
  for (int i = 0; i < kStable; ++i) {
    stable.push_back("stable:" + std::to_string(i));
    std::lock_guard lock(mu);
    table.insert(make_item(stable.back(), 0));
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0};
  auto reader = [&](int seed) {
    std::mt19937 rng(static_cast<uint32_t>(seed));
    std::vector<int> last(kStable, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (int n = 0; n < 2'000'000 && !stop; ++n) {
      if (std::chrono::steady_clock::now() > deadline) break;
      const int i = static_cast<int>(rng() % kStable);
      ReadSection section;
      const Item* e = table.find(stable[i], hash_of(stable[i]));
      ASSERT_NE(e, nullptr) << stable[i];
      ASSERT_EQ(e->name, stable[i]);
      ASSERT_GE(e->version, last[i]);
      last[i] = e->version;
      const std::string absent = "absent:" + std::to_string(n % 100);
      ASSERT_EQ(table.find(absent, hash_of(absent)), nullptr);
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  std::mt19937 rng(9);
  std::vector<Item*> churn;
  std::vector<int> version(kStable, 0);
  for (int step = 0; step < 200'000 && reads.load() < 1'000'000; ++step) {
    std::lock_guard lock(mu);
    const int i = static_cast<int>(rng() % kStable);
    if (step % 3 == 0) {
      Item* old = table.find(stable[i], hash_of(stable[i]));
      Item* e = make_item(stable[i], ++version[i]);
      table.replace(old, e);
      retired.retire(old, free_item, 0);
    } else if (churn.size() < 5000 && rng() % 2 == 0) {
      churn.push_back(make_item("churn:" + std::to_string(step), 0));
      table.insert(churn.back());
    } else if (!churn.empty()) {
      const size_t j = rng() % churn.size();
      table.erase(churn[j]);
      retired.retire(churn[j], free_item, 0);
      churn[j] = churn.back();
      churn.pop_back();
    }
    if (step % 64 == 0) retired.collect();
  }
  stop = true;
  r1.join();
  r2.join();
  std::lock_guard lock(mu);
  table.for_each([](Item* e) { delete e; });
}

}  // namespace
}  // namespace tajir::cache::internal
