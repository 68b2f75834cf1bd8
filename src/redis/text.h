// Small conversions of what Redis answers, for the tier and the group.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "redis/client.h"

namespace tajir::redis {

// The decimal number `s` starts with; 0 if none.
inline int64_t to_int(std::string_view s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// The non-empty lines of `s`.
inline std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> out;
  for (size_t at = 0; at < s.size();) {
    size_t nl = std::min(s.find('\n', at), s.size());
    if (nl > at) out.emplace_back(s.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

// A reply as text (a script returns Redis strings as they are, and Lua numbers as integers).
inline std::string as_text(const Reply& r) {
  return r.type == Reply::Type::kInteger ? std::to_string(r.integer) : r.str;
}

}  // namespace tajir::redis
