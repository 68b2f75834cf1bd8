// Writing JSON responses, the same way in every handler.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "http/http.h"

namespace tajir::api {

// Serialises compactly; invalid UTF-8 (which input checks keep out) is replaced, not thrown on.
inline std::string dump(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

inline http::Response reply(int status, const nlohmann::json& body) {
  return http::Response::json(status, dump(body));
}

}  // namespace tajir::api
