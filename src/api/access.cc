#include "api/access.h"

#include <sodium.h>

#include <algorithm>

#include "api/input.h"
#include "db/database.h"
#include "http/errors.h"

namespace tajir::api {
namespace {

unsigned bit(pos::Role r) {
  switch (r) {
    case pos::Role::kOwner:
      return kOwner;
    case pos::Role::kCashier:
      return kCashier;
    case pos::Role::kOperator:
      return kOperator;
  }
  return 0;
}

// Equal, in time that depends on the lengths only. An empty secret matches nothing.
bool same_secret(std::string_view given, const std::string& secret) {
  return !secret.empty() && given.size() == secret.size() &&
         sodium_memcmp(given.data(), secret.data(), secret.size()) == 0;
}

}  // namespace

Access::Access(pos::Pos& pos, ReadCache& reads, std::string admin_token, bool db_statements_header)
    : pos_(&pos),
      reads_(&reads),
      admin_token_(std::move(admin_token)),
      db_statements_header_(db_statements_header) {
  unsigned char secret[32];
  randombytes_buf(secret, sizeof secret);
  internal_token_.resize(2 * sizeof secret + 1);
  sodium_bin2hex(internal_token_.data(), internal_token_.size(), secret, sizeof secret);
  internal_token_.pop_back();  // the NUL bin2hex writes
}

Result<pos::Principal> Access::principal(const http::Request& req, bool any_shop) const {
  auto token = http::bearer_token(req.header("Authorization"));
  if (!token) return Status(StatusCode::kUnauthenticated, "missing bearer token");
  if (same_secret(*token, admin_token_) || same_secret(*token, internal_token_)) {
    auto named = std::count_if(req.query_params.begin(), req.query_params.end(),
                               [](const auto& f) { return f.first == "shop_id"; });
    if (named > 1) return InvalidArgument("shop_id is given more than once", "shop_id");
    auto shop = req.query("shop_id");
    if (!shop) shop = req.header("X-Shop-Id");
    if (!shop && any_shop) return pos::Principal{0, 0, pos::Role::kOperator, "operator", 0};
    if (!shop) return InvalidArgument("the operator names a shop with ?shop_id=", "shop_id");
    auto id = parse_id(*shop, "shop_id");
    if (!id.ok()) return id.status();
    auto exists = pos_->shop_exists(*id);
    if (!exists.ok()) return exists.status();
    if (!*exists) return NotFound("shop not found");
    return pos::Principal{0, *id, pos::Role::kOperator, "operator", 0};
  }
  return reads_->session(*token, [&] { return pos_->authenticate(*token); });
}

http::Handler Access::guard(unsigned allow, RouteHandler handler) const {
  if (allow == kPublic) {
    return [handler = std::move(handler)](http::Request& req) { return handler(req, {}); };
  }
  return [this, allow, handler = std::move(handler)](http::Request& req) -> http::Response {
    uint64_t statements = db::thread_statements();
    auto p = principal(req, (allow & kAnyShop) != 0);
    if (!p.ok()) return http::from_status(p.status());
    if ((allow & bit(p->role)) == 0) {
      return http::from_status({StatusCode::kPermissionDenied, "your role may not do this"});
    }
    ReadCache::ReaderScope reading(p->user_id);  // the operator's (0) are not a user's habits
    http::Response r = handler(req, *p);
    // What the request cost the database, for load generators, when asked for: "0" on a hit.
    if (db_statements_header_) {
      r.headers.emplace_back("X-DB-Statements",
                             std::to_string(db::thread_statements() - statements));
    }
    return r;
  };
}

}  // namespace tajir::api
