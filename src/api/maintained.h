// The cached reads that a bill or a void brings up to date instead of dropping: the shop's
// dashboard and the first pages of its bills, which every sale changes (dropped, they were the
// reads of a busy shop that still reached the database).
//
// Each such read is cached with the shop's change number it was read at (shops.change_seq, in
// the read's own snapshot; cache::PutOptions::version). A bill or a void is change n: its
// Rewriter, run by the write's invalidation (Cache::rewrite_tags, atomically with it), decides
// for each entry the write's tags find:
//   - no version: not a maintained read; dropped, as ever;
//   - version >= n: it was read after the change committed (a fill that got in between the
//     commit and this invalidation) and shows it already: kept as it is, never counted twice;
//   - version n - 1: the change is applied to it (pos::apply_change), giving exactly what the
//     same read gives at change n, and it is kept at version n; where the change cannot be
//     applied from the read alone, dropped;
//   - anything else (a change between them is missing: two writes' invalidations ran out of
//     order): dropped.
// The cached bytes are read back into the structs they were serialised from and applied only
// if serialising them again gives the very same bytes, so what is kept is what to_json of the
// database's answer at change n would be. A dashboard is maintained for kMaxDashboardAgeMs
// after it was made (its 30-day window and its generated_at stay within that of now), then
// dropped and read again. docs/CACHE.md has the argument in full.
//
// Thread safety: the Rewriter may run on any thread; it holds its change by value.
#pragma once

#include <optional>

#include "api/invalidator.h"
#include "api/read_cache.h"
#include "cache/cache.h"
#include "pos/types.h"

namespace tajir::api {

inline constexpr int64_t kMaxDashboardAgeMs = 10 * 60 * 1000;

// What a committed bill or void of shop `shop` keeps up to date (Invalidator::after_write);
// nullopt in coarse mode (the original design, kept to be measured against: it drops).
std::optional<Maintenance> maintain(const ReadCache& reads, int64_t shop, pos::SalesChange change);

}  // namespace tajir::api
