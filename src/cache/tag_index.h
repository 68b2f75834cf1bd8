// TagIndex: tag -> (version, keys), the half of the cache that makes invalidation precise.
//
// Every entry may carry tags ("shop:42", "products:42", "product:42:7"). Invalidating a tag must
// cost what it removes, not the size of the cache, so the index keeps, per tag, the set of keys
// that carry it; invalidate() hands that set back in O(1) and the cache erases exactly those.
//
// Versions and tickets (no stale sets): a cache fill first takes a ticket, the value of a global
// epoch counter, then loads from the database, then puts. Each invalidation takes a new epoch
// value and stores it as the tag's version. link() refuses to add a key to a tag whose version is
// newer than the fill's ticket: the value was read before (or while) the tag was invalidated and
// may be stale. The check and the insertion happen under the tag's lock, and invalidate() bumps
// the version and takes the key set under that same lock, so for every put one of two things
// holds: its link came first, and the invalidation finds and removes the key; or the bump came
// first, and the link is refused. Either way the old value never stays.
//
// Order: invalidate() hands the keys over and the cache erases them without the tag's lock;
// finish() then waits for earlier invalidations of the same tag to finish theirs, so that when
// any invalidation returns, every entry tagged before it began is gone.
//
// Garbage: a tag with no keys that was never invalidated is dropped at once. One that was
// invalidated keeps its version until collect_garbage() passes it the horizon; the cache refuses
// tickets older than that horizon, so a dropped version can never be needed.
//
// Thread safety: all methods are thread-safe; the index is sharded, one mutex per shard. A caller
// may hold a cache-shard lock while calling link()/unlink() (order: cache shard, then tag shard);
// invalidate() must be called without holding any cache-shard lock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cache/internal/string_map.h"

namespace tajir::cache {

class TagIndex {
 public:
  explicit TagIndex(size_t shards);

  enum class LinkResult { kLinked, kAlreadyLinked, kStale };

  // Adds `key` to the tag's key set, unless the tag was invalidated after `ticket_epoch`; then
  // adds nothing and returns kStale. Pass UINT64_MAX to link unconditionally.
  LinkResult link(std::string_view tag, std::string_view key, uint64_t ticket_epoch);

  // Removes `key` from the tag's key set if it is there.
  void unlink(std::string_view tag, std::string_view key);

  // Raises the tag's version to `version` (if it is not already newer) and hands over the keys
  // that carried it, leaving its set empty. The caller erases them, then calls finish().
  struct Invalidation {
    std::vector<std::string> keys;
    uint64_t seq = 0;  // this invalidation's place in the tag's order
  };
  Invalidation invalidate(std::string_view tag, uint64_t version, int64_t now_ns);

  // Marks an invalidation's keys erased and waits until every invalidation of the tag that
  // took keys before it has done the same. Without the wait, a second invalidation finding the
  // set already emptied by a first, still busy one could return while the first one's stale
  // entries are still served.
  void finish(std::string_view tag, uint64_t seq);

  // Links `key` to the tag again after the invalidation numbered `seq` took it, unless another
  // invalidation of the tag has taken the tag's keys since: then links nothing and returns
  // false (that invalidation did not see the key). For an entry kept by a rewrite. REQUIRES:
  // invalidation `seq` has not finished.
  bool relink(std::string_view tag, std::string_view key, uint64_t seq);

  // The tag's version: 0 when it was never invalidated (or that was forgotten).
  uint64_t version(std::string_view tag) const;

  // Drops tags that have no keys and were last invalidated before `before_ns`. Returns how many.
  size_t collect_garbage(int64_t before_ns);

  // Number of tags known.
  size_t size() const;

 private:
  struct TagState {
    uint64_t version = 0;
    int64_t invalidated_at_ns = 0;
    internal::StringSet keys;
    uint64_t last_seq = 0;          // invalidations started
    std::vector<uint64_t> erasing;  // seqs of those whose keys are not all erased yet
  };
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::condition_variable erased;      // signalled when an invalidation finishes
    internal::StringMap<TagState> tags;  // GUARDED_BY(mu)
  };

  Shard& shard_for(std::string_view tag) const;

  std::unique_ptr<Shard[]> shards_;
  size_t shard_mask_;
};

}  // namespace tajir::cache
