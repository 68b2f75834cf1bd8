// Query: how a handler reads its query parameters, and what a cached read's key is made of.
//
// A handler reads each parameter it uses through one Query; the Query checks it, refuses it
// when given more than once, and records the value as read. The cache key is then built from
// that record (ReadCache::key), so the key and the answer come from the same values:
// parameters the handler does not read (`?utm=x`, the operator's `shop_id`, which
// authentication reads) leave the key alone, and two requests with one key read the same.
//
//   Query q(req);
//   pos::PageRequest page = page_of(q);       // q.integer("page", 1, 1'000'000, 1), ...
//   auto text = q.text("q");
//   auto low = q.boolean("low_stock");
//   if (!q.status().ok()) return http::from_status(q.status());  // 400 naming the field
//   return reads.serve(q, shop, "products", fill);  // key "7|products|/api/products?page=2&q=tea"
//
// Every tajir parameter takes one value: a name given twice answers 400 (invalid_argument, the
// name as the field), whatever the values. Like Input, a Query keeps the first problem, so a
// handler reads every parameter and checks once. What is recorded is the value in a canonical
// spelling that reads back as the same value ("05" as "5", "1" as "true" for a boolean); an
// absent parameter is recorded as nothing, which is why `/api/products` is the key that
// warming fills. The record is sorted by name, so the order of a query does not matter.
//
// Thread safety: a plain value, one thread at a time. The Request must outlive the Query.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/http.h"
#include "util/status.h"

namespace tajir::api {

class Query {
 public:
  explicit Query(const http::Request& req) : req_(&req) {}

  // The value as sent (percent-decoded), any text.
  std::optional<std::string> text(const char* name);
  // An integer in [min, max]; `fallback` when absent (or after a problem).
  int64_t integer(const char* name, int64_t min, int64_t max, int64_t fallback);
  // "true"/"1" or "false"/"0".
  std::optional<bool> boolean(const char* name);
  // A positive integer id.
  std::optional<int64_t> id(const char* name);
  // An RFC 3339 time or a date (pos::parse_time), as unix ms; recorded as sent, since the
  // canonical time drops what a second spelling would keep.
  std::optional<int64_t> time(const char* name);

  // Records a problem found by the caller (the first one wins).
  void fail(Status st);
  // OK, or the first problem found.
  const Status& status() const { return status_; }

  const http::Request& request() const { return *req_; }
  // What was read: (name, canonical value), sorted by name.
  std::vector<std::pair<std::string, std::string>> values() const;

 private:
  // The one value of `name`, nullopt when absent or given twice (a problem then).
  std::optional<std::string_view> one(const char* name);
  void record(const char* name, std::string value);

  const http::Request* req_;
  std::vector<std::pair<std::string, std::string>> read_;
  Status status_;
};

}  // namespace tajir::api
