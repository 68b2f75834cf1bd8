// Hash sets and maps keyed by std::string that can be looked up with a std::string_view without
// building a string. (Debian's Abseil has its own string_view type, so its default string
// hashing is not transparent to std::string_view.)
#pragma once

#include <xxhash.h>

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace tajir::cache::internal {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return XXH3_64bits(s.data(), s.size()); }
};

struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

using StringSet = absl::flat_hash_set<std::string, StringHash, StringEq>;
template <typename V>
using StringMap = absl::flat_hash_map<std::string, V, StringHash, StringEq>;

}  // namespace tajir::cache::internal
