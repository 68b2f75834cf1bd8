// Access: who is calling, and whether a route lets them. The one place of authentication and
// authorization in the API.
//
// A caller is a user's bearer token (a session row; cached through ReadCache, so a hit reads no
// database) or the operator's token given at start-up, who names the shop it acts on with
// `?shop_id=` or `X-Shop-Id`. Tokens are compared in constant time. The scheme name "Bearer" is
// case-insensitive (RFC 7235, http::bearer_token).
//
// Every route names who may call it (an `Allow` set) and is wrapped by guard(), which resolves
// the principal, answers 401/403 itself, and runs the handler:
//
//   router.add(Method::kGet, "/api/products", access.guard(kEveryone, list_products));
//
// Thread safety: thread-safe after construction.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "api/read_cache.h"
#include "http/http.h"
#include "http/router.h"
#include "pos/pos.h"

namespace tajir::api {

// Who may call a route.
enum Allow : unsigned {
  kPublic = 0,  // no token: the handler gets an empty principal
  kOwner = 1,
  kCashier = 2,
  kOperator = 4,
  kManagers = kOwner | kOperator,
  kEveryone = kOwner | kCashier | kOperator,
  // With kOperator: the operator may call without naming a shop (shop_id 0: every shop).
  kAnyShop = 8,
};

using RouteHandler = std::function<http::Response(http::Request&, const pos::Principal&)>;

class Access {
 public:
  // `admin_token` empty: no operator. `db_statements_header`: every guarded response says how
  // many SQL statements it ran (X-DB-Statements, "0" on a hit), for load generators.
  Access(pos::Pos& pos, ReadCache& reads, std::string admin_token, bool db_statements_header);

  // The caller, or kUnauthenticated / kInvalidArgument (the operator named no shop, unless
  // `any_shop`) / kNotFound (no such shop).
  Result<pos::Principal> principal(const http::Request& req, bool any_shop = false) const;

  // The route's handler behind authentication and the role check of `allow`.
  http::Handler guard(unsigned allow, RouteHandler handler) const;

  // A second operator token, random per process, that never leaves it: what the background
  // refill sends its requests with.
  const std::string& internal_token() const { return internal_token_; }

 private:
  Result<pos::Principal> session(std::string_view token) const;

  pos::Pos* pos_;
  ReadCache* reads_;
  std::string admin_token_;
  std::string internal_token_;
  bool db_statements_header_;
};

}  // namespace tajir::api
