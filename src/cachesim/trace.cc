#include "cachesim/trace.h"

#include <absl/container/flat_hash_map.h>
#include <xxhash.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace tajir::cachesim {

uint64_t hash_key(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

Result<Trace> parse_trace(std::string_view text, std::string name) {
  Trace t;
  t.name = std::move(name);
  // Keyed by hash: two keys colliding in 64 bits would be one key to the engine as well.
  absl::flat_hash_map<uint64_t, uint32_t> ids;
  bool sized = false;
  uint64_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::string_view key = line;
    uint32_t size = 1;
    const size_t comma = line.find(',');
    if (comma != std::string_view::npos) {
      key = line.substr(0, comma);
      std::string_view s = line.substr(comma + 1);
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > UINT32_MAX) {
        return Status(StatusCode::kInvalidArgument, t.name + ":" + std::to_string(line_no) +
                                                        ": bad size '" + std::string(s) +
                                                        "' (want a positive integer)");
      }
      size = static_cast<uint32_t>(v);
      if (!sized) {
        // Requests before the first sized one count as size 1.
        t.sizes.assign(t.ids.size(), 1);
        sized = true;
      }
    }
    const uint64_t h = hash_key(key);
    auto [it, inserted] = ids.try_emplace(h, static_cast<uint32_t>(t.hashes.size()));
    if (inserted) {
      t.hashes.push_back(h);
      t.key_size.push_back(size);
      t.unique_bytes += size;
    }
    t.ids.push_back(it->second);
    if (sized) t.sizes.push_back(size);
  }
  return t;
}

Result<Trace> load_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, "cannot open trace '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status(StatusCode::kUnavailable, "cannot read trace '" + path + "'");
  const size_t slash = path.find_last_of('/');
  return parse_trace(buf.view(), slash == std::string::npos ? path : path.substr(slash + 1));
}

}  // namespace tajir::cachesim
