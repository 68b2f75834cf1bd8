// Writing JSON responses, the same way in every handler.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/serialize.h"
#include "http/errors.h"
#include "http/http.h"

namespace tajir::api {

// Serialises compactly; invalid UTF-8 (which input checks keep out) is replaced, not thrown on.
inline std::string dump(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

inline http::Response reply(int status, const nlohmann::json& body) {
  return http::Response::json(status, dump(body));
}

// The resource's JSON with `status`, or the error response of a failed result.
template <typename T>
http::Response reply(int status, const Result<T>& r) {
  if (!r.ok()) return http::from_status(r.status());
  return reply(status, to_json(*r));
}

// A committed write's answer, unless its invalidation could not be acknowledged by every node
// (`told`, Invalidator::after_write): then 503, and the client sends it again.
template <typename T>
http::Response reply(int status, const Result<T>& r, const Status& told) {
  if (!told.ok()) return http::from_status(told);
  return reply(status, r);
}

// 204, or the error response.
inline http::Response reply_empty(const Status& st) {
  return st.ok() ? http::Response::empty(204) : http::from_status(st);
}

}  // namespace tajir::api
