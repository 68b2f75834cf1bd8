// The cache key of a request (api/query.h + ReadCache::key): two requests whose keys are equal
// read the same values, so one cannot be answered with the other's bytes; and the target the
// refill sends again for a key (ReadCache::read_of) reads back to that same key.
//
// Input: two request targets separated by a newline; a target Beast's parser refuses (a control
// byte, a space) never reaches a handler, so it is skipped. Each is read as a list handler reads
// its query: every kind of parameter Query has (integers, text, booleans, ids, times), with the
// path, which is what the router and the handler read besides the query.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/query.h"
#include "api/read_cache.h"
#include "fuzz/fuzz.h"

using namespace tajir;

namespace {

struct Read {
  bool ok = false;
  std::string key;
  std::vector<std::string> values;  // what the handler got, in order; "-" for absent
};

template <typename T>
std::string shown(const std::optional<T>& v) {
  if (!v) return "-";
  if constexpr (std::is_same_v<T, std::string>) {
    return "=" + *v;
  } else {
    return "=" + std::to_string(*v);
  }
}

// Whether the Server's parser takes `target` as a request-target.
bool parses(std::string_view target) {
  std::string head = "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  boost::beast::http::request_parser<boost::beast::http::string_body> parser;
  parser.header_limit(16 << 10);  // the Server's
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(head), ec);
  auto got = parser.get().target();
  return !ec && parser.is_done() && std::string_view(got.data(), got.size()) == target;
}

// `from_client`: the target came through the Server's parser (the refill's does not: it goes to
// the router as it is).
Read read(std::string_view target, bool from_client = true) {
  Read out;
  if (from_client && !parses(target)) return out;
  http::Request req;
  if (!req.set_target(target).ok()) return out;
  api::Query q(req);
  out.values.push_back(req.path);
  out.values.push_back(std::to_string(q.integer("page", 1, 1'000'000, 1)));
  out.values.push_back(std::to_string(q.integer("per_page", 1, 200, 50)));
  out.values.push_back(shown(q.text("q")));
  out.values.push_back(shown(q.text("status")));
  out.values.push_back(shown(q.boolean("low_stock")));
  out.values.push_back(shown(q.id("customer_id")));
  out.values.push_back(shown(q.time("from")));
  if (!q.status().ok()) return out;
  out.ok = true;
  out.key = api::ReadCache::key(7, "bills", q);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view a_target = in.substr(0, nl);
  std::string_view b_target = nl == std::string_view::npos ? in : in.substr(nl + 1);
  Read a = read(a_target), b = read(b_target);
  if (a.ok && b.ok && a.key == b.key) {
    FUZZ_CHECK(a.values == b.values, "one key %s for two reads", a.key.c_str());
  }
  for (const Read* r : {&a, &b}) {
    if (!r->ok) continue;
    auto again = api::ReadCache::read_of(r->key);
    FUZZ_CHECK(again && again->shop == "7", "a request's key names its shop: %s", r->key.c_str());
    Read sent = read(again->target, /*from_client=*/false);
    FUZZ_CHECK(sent.ok && sent.key == r->key && sent.values == r->values,
               "the refill's target %s reads another key %s", std::string(again->target).c_str(),
               sent.key.c_str());
  }
  return 0;
}
