#include "api/query.h"

#include <algorithm>
#include <charconv>

#include "api/input.h"
#include "pos/pos.h"

namespace tajir::api {

void Query::fail(Status st) {
  if (status_.ok()) status_ = std::move(st);
}

std::optional<std::string_view> Query::one(const char* name) {
  std::optional<std::string_view> found;
  for (const auto& [key, value] : req_->query_params) {
    if (key != name) continue;
    if (found) {
      fail(InvalidArgument(std::string(name) + " is given more than once; it takes one value",
                           name));
      return std::nullopt;
    }
    found = value;
  }
  return found;
}

void Query::record(const char* name, std::string value) {
  for (const auto& [key, _] : read_) {
    if (key == name) return;  // read twice by the handler: the same value
  }
  read_.emplace_back(name, std::move(value));
}

std::optional<std::string> Query::text(const char* name) {
  auto v = one(name);
  if (!v) return std::nullopt;
  record(name, std::string(*v));
  return std::string(*v);
}

int64_t Query::integer(const char* name, int64_t min, int64_t max, int64_t fallback) {
  auto v = one(name);
  if (!v) return fallback;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size() || n < min || n > max) {
    fail(InvalidArgument(std::string(name) + " must be an integer from " + std::to_string(min) +
                             " to " + std::to_string(max),
                         name));
    return fallback;
  }
  record(name, std::to_string(n));
  return n;
}

std::optional<bool> Query::boolean(const char* name) {
  auto v = one(name);
  if (!v) return std::nullopt;
  std::optional<bool> b;
  if (*v == "true" || *v == "1") b = true;
  if (*v == "false" || *v == "0") b = false;
  if (!b) {
    fail(InvalidArgument(std::string(name) + " must be true or false", name));
    return std::nullopt;
  }
  record(name, *b ? "true" : "false");
  return b;
}

std::optional<int64_t> Query::id(const char* name) {
  auto v = one(name);
  if (!v) return std::nullopt;
  auto n = parse_id(*v, name);
  if (!n.ok()) {
    fail(n.status());
    return std::nullopt;
  }
  record(name, std::to_string(*n));
  return *n;
}

std::optional<int64_t> Query::time(const char* name) {
  auto v = one(name);
  if (!v) return std::nullopt;
  auto t = pos::parse_time(*v);
  if (!t) {
    fail(InvalidArgument(std::string(name) + " must be an RFC 3339 time or a date", name));
    return std::nullopt;
  }
  record(name, std::string(*v));
  return t;
}

std::vector<std::pair<std::string, std::string>> Query::values() const {
  auto out = read_;
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tajir::api
