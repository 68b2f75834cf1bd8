// Api: the JSON API of API.md, as routes on an http::Router over a pos::Pos.
//
// One table in api.cc lists every route with the roles allowed on it; handlers parse and check
// input (api/input.h), call Pos, and serialise (api/serialize.h). Authentication: a bearer
// token of a user, or the operator token given at start-up, who names the shop to act on with
// `?shop_id=` or an `X-Shop-Id` header.
#pragma once

#include <string>

#include "http/router.h"
#include "pos/pos.h"

namespace tajir::api {

struct ApiOptions {
  std::string admin_token;  // empty: no operator
  bool metrics_enabled = true;
};

class Api {
 public:
  Api(pos::Pos& pos, ApiOptions options);
  // Adds every route to the router.
  void register_routes(http::Router& router);
  // Every (method, pattern) the API serves, without a database (for `tajir routes`).
  static std::vector<std::pair<http::Method, std::string>> routes();

 private:
  explicit Api(ApiOptions options) : pos_(nullptr), options_(std::move(options)) {}
  pos::Pos* pos_;  // never null but in routes(), whose handlers are never called
  ApiOptions options_;
};

}  // namespace tajir::api
