// The simulator's trace parser (cachesim/trace.h) on any text: it never crashes, and a trace it
// accepts is what its lines say: one request per non-blank line, dense key ids in order of first
// appearance, sizes when any line has one (1 for the lines before), each key's size that of its
// first request, and unique_bytes their sum.
#include "cachesim/trace.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fuzz/fuzz.h"

using namespace tajir::cachesim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = parse_trace(text, "fuzz");
  if (!t.ok()) {
    FUZZ_CHECK(t.status().message().starts_with("fuzz:"), "an error names the trace and line");
    return 0;
  }
  // The reference: split the lines again, the simple way.
  std::vector<std::string_view> keys;
  bool any_size = false;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    any_size = any_size || line.find(',') != std::string_view::npos;
    keys.push_back(line.substr(0, line.find(',')));
  }
  FUZZ_CHECK(t->requests() == keys.size(), "%zu requests for %zu lines",
             static_cast<size_t>(t->requests()), keys.size());
  FUZZ_CHECK(t->has_sizes() == any_size, "sizes exactly when a line has one");
  if (t->has_sizes()) FUZZ_CHECK(t->sizes.size() == t->ids.size(), "a size per request");
  FUZZ_CHECK(t->hashes.size() == t->key_size.size(), "a size per key");
  std::unordered_map<uint64_t, uint32_t> first_id;
  uint64_t bytes = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    uint64_t h = hash_key(keys[i]);
    auto [it, fresh] = first_id.try_emplace(h, static_cast<uint32_t>(first_id.size()));
    FUZZ_CHECK(t->ids[i] == it->second, "request %zu: id %u, expected %u", i, t->ids[i],
               it->second);
    FUZZ_CHECK(t->hashes[it->second] == h, "the key's hash");
    FUZZ_CHECK(t->size_of(i) >= 1, "sizes are positive");
    if (fresh) {
      FUZZ_CHECK(t->key_size[it->second] == t->size_of(i), "a key's size is its first request's");
      bytes += t->size_of(i);
    }
  }
  FUZZ_CHECK(t->unique_keys() == first_id.size(), "unique keys");
  FUZZ_CHECK(t->unique_bytes == bytes, "unique bytes");
  return 0;
}
